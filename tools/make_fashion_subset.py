#!/usr/bin/python3
"""A small, class-balanced subset of Fashion-MNIST for the marginkit demo.

Run once, from the repository root, with Debian's interpreter (standard library only):

    apt-get install -y dataset-fashion-mnist
    /usr/bin/python3 tools/make_fashion_subset.py

Reads the original gzipped IDX files of Debian's package dataset-fashion-mnist
(/usr/share/datasets/fashion-mnist, or the directory given with --source) and writes, to
examples/data/fashion-mnist/ (or --out):

  train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz   600 images per class, from the training set
  t10k-images-idx3-ubyte.gz,  t10k-labels-idx1-ubyte.gz    200 images per class, from the test set
  manifest.json                                            SHA-256, byte size and counts of each file

Selection rule: for each class, the first N images of that class in the original file order
(N = 600 for train, 200 for t10k). The chosen images keep their original relative order, so
classes stay interleaved as in the source files. No randomness.

The output is reproducible: gzip level 9, header mtime 0, no file name in the header. The
compressed bytes depend on the zlib build (this was made with Debian 12's zlib 1.2.13); the
manifest also records the SHA-256 of the uncompressed IDX bytes, which do not.
CI does not run this; the output is committed.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import struct
import sys

CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
WIDTH = HEIGHT = 28
PER_CLASS = {'train': 600, 't10k': 200}
# The originals as shipped by Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1. Debian's
# build recompressed them (gzip mtime 2020-06-05), so the .gz MD5s are not those of the upstream
# README's table; SOURCE_IDX_SHA256 is the SHA-256 of the uncompressed IDX bytes.
SOURCE_SHA256 = {
    'train-images-idx3-ubyte.gz': 'b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7',
    'train-labels-idx1-ubyte.gz': '0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056',
    't10k-images-idx3-ubyte.gz': 'cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa',
    't10k-labels-idx1-ubyte.gz': '8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05',
}
SOURCE_IDX_SHA256 = {
    'train-images-idx3-ubyte.gz': 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    'train-labels-idx1-ubyte.gz': 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    't10k-images-idx3-ubyte.gz': '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    't10k-labels-idx1-ubyte.gz': '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read_source(source, name):
    path = os.path.join(source, name)
    with open(path, 'rb') as f:
        gz = f.read()
    if sha256(gz) != SOURCE_SHA256[name]:
        sys.exit(f'{path}: SHA-256 {sha256(gz)} is not that of the Debian original ({SOURCE_SHA256[name]})')
    raw = gzip.decompress(gz)
    assert sha256(raw) == SOURCE_IDX_SHA256[name], name
    return raw


def parse_images(raw):
    magic, n, rows, cols = struct.unpack('>IIII', raw[:16])
    assert magic == 0x803 and rows == HEIGHT and cols == WIDTH, (magic, rows, cols)
    assert len(raw) == 16 + n * rows * cols
    return n, raw[16:]


def parse_labels(raw):
    magic, n = struct.unpack('>II', raw[:8])
    assert magic == 0x801, magic
    assert len(raw) == 8 + n
    return n, raw[8:]


def gzip_bytes(raw):
    buf = io.BytesIO()
    # filename='' -> no FNAME field; mtime=0 -> a fixed header; level 9 -> the smallest files.
    with gzip.GzipFile(filename='', mode='wb', fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(raw)
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--source', default='/usr/share/datasets/fashion-mnist')
    ap.add_argument('--out', default=os.path.join(ROOT, 'examples', 'data', 'fashion-mnist'))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    files = {}
    splits = {}
    for split, per_class in PER_CLASS.items():
        img_name, lab_name = f'{split}-images-idx3-ubyte.gz', f'{split}-labels-idx1-ubyte.gz'
        n_img, pixels = parse_images(read_source(args.source, img_name))
        n_lab, labels = parse_labels(read_source(args.source, lab_name))
        assert n_img == n_lab

        taken = [0] * len(CLASS_NAMES)
        chosen = []
        for i, label in enumerate(labels):
            if taken[label] < per_class:
                taken[label] += 1
                chosen.append(i)
        assert taken == [per_class] * len(CLASS_NAMES), taken
        n = len(chosen)
        size = WIDTH * HEIGHT

        out_pixels = b''.join(pixels[i * size:(i + 1) * size] for i in chosen)
        out_labels = bytes(labels[i] for i in chosen)
        raw = {
            img_name: struct.pack('>IIII', 0x803, n, HEIGHT, WIDTH) + out_pixels,
            lab_name: struct.pack('>II', 0x801, n) + out_labels,
        }
        for name, data in raw.items():
            gz = gzip_bytes(data)
            assert gzip.decompress(gz) == data
            with open(os.path.join(args.out, name), 'wb') as f:
                f.write(gz)
            files[name] = {
                'split': 'test' if split == 't10k' else 'train',
                'kind': 'images' if 'images' in name else 'labels',
                'count': n,
                'bytes': len(gz),
                'sha256': sha256(gz),
                'idxBytes': len(data),
                'idxSha256': sha256(data),
                'source': {'file': name, 'sha256': SOURCE_SHA256[name], 'idxSha256': SOURCE_IDX_SHA256[name]},
            }
        splits['test' if split == 't10k' else 'train'] = {
            'images': img_name,
            'labels': lab_name,
            'count': n,
            'perClass': per_class,
            'sourceCount': n_img,
            # 0-based index, in the original file, of the last image taken (all taken ones are <= it).
            'lastSourceIndex': chosen[-1],
        }

    manifest = {
        'name': 'fashion-mnist-subset',
        'description': 'Class-balanced subset of Fashion-MNIST: the first perClass images of each class, in original file order.',
        'source': 'Debian package dataset-fashion-mnist 0.0~git20200523.55506a9-1 (upstream https://github.com/zalandoresearch/fashion-mnist)',
        'license': 'MIT',
        'copyright': 'Copyright (c) 2017 Zalando SE',
        'generator': '/usr/bin/python3 tools/make_fashion_subset.py',
        'width': WIDTH,
        'height': HEIGHT,
        'classNames': CLASS_NAMES,
        'splits': splits,
        'files': files,
    }
    with open(os.path.join(args.out, 'manifest.json'), 'w', encoding='utf-8') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    total = sum(v['bytes'] for v in files.values())
    for name, v in files.items():
        print(f'{name:28s} {v["bytes"]:>9,d} bytes  {v["count"]:>5d} {v["kind"]}  sha256 {v["sha256"]}')
    print(f'total {total:,d} bytes in {args.out}')


if __name__ == '__main__':
    main()
