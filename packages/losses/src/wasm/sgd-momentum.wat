;; SGD with momentum over rows of float32, four lanes at a time: the rule and the rounding of
;; dense-update.ts's `denseSgd` (torch.optim.SGD, no dampening, no Nesterov), entry for entry:
;;   e = g                     where c = 0
;;   e = f32(g − c·w)          in float64, where c ≠ 0 (the deferred norm term of core's chunked loss)
;;   e = f32(e + f32(λ·w))     where λ ≠ 0 (weight decay)
;;   v = f32(f32(μ·v) + e);  w = f32(w − f32(η·v))
;; and each row's Σ w² of the updated row in float64, with two partial sums (even and odd entries).
;; `finite` checks a block first: an update never starts on a gradient with ±∞ or NaN.
;; Assemble with `node scripts/build-wasm.mjs` (wabt), which writes sgd-momentum.generated.ts.
(module
  (memory (import "env" "memory") 1)
  ;; sgd(g, w, v, coef, norms, rows, dim, mu, lr, wd): byte offsets of rows × dim float32 (dim a
  ;; multiple of 4) for g, w and v, rows float64 coefficients and rows float64 norms (written).
  (func (export "sgd")
    (param $g i32) (param $w i32) (param $v i32) (param $coef i32) (param $norms i32)
    (param $rows i32) (param $dim i32) (param $mu f32) (param $lr f32) (param $wd f32)
    (local $j i32) (local $end i32) (local $c f64) (local $c2 v128) (local $mu4 v128) (local $lr4 v128)
    (local $wd4 v128) (local $acc v128) (local $gv v128) (local $vv v128) (local $nv v128) (local $wv v128)
    (local.set $mu4 (f32x4.splat (local.get $mu)))
    (local.set $lr4 (f32x4.splat (local.get $lr)))
    (local.set $wd4 (f32x4.splat (local.get $wd)))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $j) (local.get $rows)))
        (local.set $c (f64.load (i32.add (local.get $coef) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $c2 (f64x2.splat (local.get $c)))
        (local.set $acc (v128.const i64x2 0 0))
        (local.set $end (i32.add (local.get $g) (i32.shl (local.get $dim) (i32.const 2))))
        (loop $col
          (local.set $wv (v128.load (local.get $w)))
          (local.set $gv (v128.load (local.get $g)))
          (if (f64.ne (local.get $c) (f64.const 0))
            (then
              ;; lanes 0-1 and 2-3 in float64, then back to float32 (one rounding, as Math.fround)
              (local.set $gv
                (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
                  (f32x4.demote_f64x2_zero
                    (f64x2.sub (f64x2.promote_low_f32x4 (local.get $gv))
                               (f64x2.mul (local.get $c2) (f64x2.promote_low_f32x4 (local.get $wv)))))
                  (f32x4.demote_f64x2_zero
                    (f64x2.sub
                      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $gv) (local.get $gv)))
                      (f64x2.mul (local.get $c2)
                                 (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $wv) (local.get $wv))))))))))
          (if (f32.ne (local.get $wd) (f32.const 0))
            (then (local.set $gv (f32x4.add (local.get $gv) (f32x4.mul (local.get $wd4) (local.get $wv))))))
          (local.set $vv (f32x4.add (f32x4.mul (local.get $mu4) (v128.load (local.get $v))) (local.get $gv)))
          (v128.store (local.get $v) (local.get $vv))
          (local.set $nv (f32x4.sub (local.get $wv) (f32x4.mul (local.get $lr4) (local.get $vv))))
          (v128.store (local.get $w) (local.get $nv))
          ;; entries 0, 1 into the (even, odd) sums, then entries 2, 3
          (local.set $acc (f64x2.add (local.get $acc)
            (f64x2.mul (f64x2.promote_low_f32x4 (local.get $nv)) (f64x2.promote_low_f32x4 (local.get $nv)))))
          (local.set $nv (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $nv) (local.get $nv)))
          (local.set $acc (f64x2.add (local.get $acc)
            (f64x2.mul (f64x2.promote_low_f32x4 (local.get $nv)) (f64x2.promote_low_f32x4 (local.get $nv)))))
          (local.set $g (i32.add (local.get $g) (i32.const 16)))
          (local.set $w (i32.add (local.get $w) (i32.const 16)))
          (local.set $v (i32.add (local.get $v) (i32.const 16)))
          (br_if $col (i32.lt_u (local.get $g) (local.get $end))))
        (f64.store (i32.add (local.get $norms) (i32.shl (local.get $j) (i32.const 3)))
          (f64.sqrt (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $row))))
  ;; finite(p, n): 1 when the n float32 at byte offset p (n a multiple of 4) are all finite, else 0:
  ;; Σ p·0 stays ±0 unless some entry is ±∞ or NaN (∞·0 and NaN·0 are NaN).
  (func (export "finite") (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $acc v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (v128.load (local.get $p)) (v128.const f32x4 0 0 0 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $next)))
    (i32x4.all_true (f32x4.eq (local.get $acc) (v128.const f32x4 0 0 0 0))))
)
