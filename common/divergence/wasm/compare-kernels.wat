;; The comparison engine's hot loops in WebAssembly with SIMD (v128): the batched scan of settled
;; tiles against the first replica, tile comparison under a colour tolerance, difference boxes, the
;; tile history's bookkeeping and classification, which tiles a write changes, and the memory floor
;; (an XOR-reduce).
;; Assembled by scripts/wasm.mjs; driven by compare-kernels.ts.
;;
;; Framebuffers are RGBA words (one 32-bit little-endian word per pixel, R in the low byte), all
;; in the imported memory; pointers are byte offsets, pixel indices count words from a frame's
;; start. `maxDelta` -1 means exact (bit for bit, alpha included); 0–255 means a pixel differs when
;; |ΔR|, |ΔG| or |ΔB| exceeds it (alpha ignored), as tile-pixels.ts's pixelsDiffer says.
(module
  (import "env" "memory" (memory 1))

  ;; Bits 0–3: which of the 4 pixels at byte addresses a and b differ bit for bit.
  (func $differ4_exact (param $a i32) (param $b i32) (result i32)
    (i32x4.bitmask (i32x4.ne (v128.load (local.get $a)) (v128.load (local.get $b)))))

  ;; Bits 0–3: which of the 4 pixels differ beyond the limit. |Δ| per byte is the OR of the two
  ;; saturating differences (one of them is 0); the limit's alpha byte is 255, so alpha never counts.
  (func $differ4_tolerant (param $a i32) (param $b i32) (param $limit v128) (result i32)
    (local $x v128) (local $y v128)
    (local.set $x (v128.load (local.get $a)))
    (local.set $y (v128.load (local.get $b)))
    (i32x4.bitmask
      (i32x4.ne
        (i8x16.gt_u
          (v128.or (i8x16.sub_sat_u (local.get $x) (local.get $y)) (i8x16.sub_sat_u (local.get $y) (local.get $x)))
          (local.get $limit))
        (v128.const i32x4 0 0 0 0))))

  ;; 1 when the one pixel at a and b differs beyond the limit (lanes 1–3 load as zeros: equal).
  (func $differ1_tolerant (param $a i32) (param $b i32) (param $limit v128) (result i32)
    (local $x v128) (local $y v128)
    (local.set $x (v128.load32_zero (local.get $a)))
    (local.set $y (v128.load32_zero (local.get $b)))
    (v128.any_true
      (i8x16.gt_u
        (v128.or (i8x16.sub_sat_u (local.get $x) (local.get $y)) (i8x16.sub_sat_u (local.get $y) (local.get $x)))
        (local.get $limit))))

  ;; The limit vector for a tolerance: maxDelta in R, G, B, 255 in alpha.
  (func $limit_of (param $maxDelta i32) (result v128)
    (i32x4.splat
      (i32.or
        (i32.mul (i32.and (local.get $maxDelta) (i32.const 255)) (i32.const 0x00010101))
        (i32.const 0xff000000))))

  ;; The first pixel index in [i, end) where frames a and b differ bit for bit, or end.
  ;; 16 pixels per step (one branch), then 4, then one by one.
  (func $first_exact (param $a i32) (param $b i32) (param $i i32) (param $end i32) (result i32)
    (local $p i32) (local $q i32) (local $m i32)
    (block $narrow_done
      (loop $narrow
        (br_if $narrow_done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $end)))
        (local.set $m
          (call $differ4_exact
            (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))
            (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))
        (if (local.get $m) (then (return (i32.add (local.get $i) (i32.ctz (local.get $m))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $narrow)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (if (i32.ne
              (i32.load (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2))))
              (i32.load (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $end))

  ;; The first pixel index in [i, end) where a and b differ beyond the limit, or end.
  (func $first_tolerant (param $a i32) (param $b i32) (param $i i32) (param $end i32) (param $limit v128) (result i32)
    (local $p i32) (local $q i32) (local $m i32) (local $x v128) (local $y v128) (local $any v128)
    (block $narrow_done
      (loop $narrow
        (br_if $narrow_done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $end)))
        (local.set $m
          (call $differ4_tolerant
            (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))
            (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))
            (local.get $limit)))
        (if (local.get $m) (then (return (i32.add (local.get $i) (i32.ctz (local.get $m))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $narrow)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (if (call $differ1_tolerant
              (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 2)))
              (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))
              (local.get $limit))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $end))

  ;; The last pixel index in [lo, hi) where a and b differ bit for bit (one must), scanning back.
  (func $last_exact (param $a i32) (param $b i32) (param $lo i32) (param $hi i32) (result i32)
    (local $m i32)
    (block $wide_done
      (loop $wide
        (br_if $wide_done (i32.lt_u (i32.sub (local.get $hi) (local.get $lo)) (i32.const 4)))
        (local.set $hi (i32.sub (local.get $hi) (i32.const 4)))
        (local.set $m
          (call $differ4_exact
            (i32.add (local.get $a) (i32.shl (local.get $hi) (i32.const 2)))
            (i32.add (local.get $b) (i32.shl (local.get $hi) (i32.const 2)))))
        (if (local.get $m) (then (return (i32.add (local.get $hi) (i32.sub (i32.const 31) (i32.clz (local.get $m)))))))
        (br $wide)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.le_u (local.get $hi) (local.get $lo)))
        (local.set $hi (i32.sub (local.get $hi) (i32.const 1)))
        (if (i32.ne
              (i32.load (i32.add (local.get $a) (i32.shl (local.get $hi) (i32.const 2))))
              (i32.load (i32.add (local.get $b) (i32.shl (local.get $hi) (i32.const 2)))))
          (then (return (local.get $hi))))
        (br $tail)))
    (local.get $lo))

  ;; The last pixel index in [lo, hi) where a and b differ beyond the limit (one must).
  (func $last_tolerant (param $a i32) (param $b i32) (param $lo i32) (param $hi i32) (param $limit v128) (result i32)
    (local $m i32)
    (block $wide_done
      (loop $wide
        (br_if $wide_done (i32.lt_u (i32.sub (local.get $hi) (local.get $lo)) (i32.const 4)))
        (local.set $hi (i32.sub (local.get $hi) (i32.const 4)))
        (local.set $m
          (call $differ4_tolerant
            (i32.add (local.get $a) (i32.shl (local.get $hi) (i32.const 2)))
            (i32.add (local.get $b) (i32.shl (local.get $hi) (i32.const 2)))
            (local.get $limit)))
        (if (local.get $m) (then (return (i32.add (local.get $hi) (i32.sub (i32.const 31) (i32.clz (local.get $m)))))))
        (br $wide)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.le_u (local.get $hi) (local.get $lo)))
        (local.set $hi (i32.sub (local.get $hi) (i32.const 1)))
        (if (call $differ1_tolerant
              (i32.add (local.get $a) (i32.shl (local.get $hi) (i32.const 2)))
              (i32.add (local.get $b) (i32.shl (local.get $hi) (i32.const 2)))
              (local.get $limit))
          (then (return (local.get $hi))))
        (br $tail)))
    (local.get $lo))

  ;; Records a difference of one replica in one tile's row: its bit in the tile's cell, and the box
  ;; (four i32 at `box`) grown to pixels [x0, x1) of row y.
  (func $record (param $cell i32) (param $bit i32) (param $box i32) (param $x0 i32) (param $x1 i32) (param $y i32)
    (i32.store (local.get $cell) (i32.or (i32.load (local.get $cell)) (local.get $bit)))
    (if (i32.lt_s (local.get $x0) (i32.load (local.get $box))) (then (i32.store (local.get $box) (local.get $x0))))
    (if (i32.lt_s (local.get $y) (i32.load offset=4 (local.get $box))) (then (i32.store offset=4 (local.get $box) (local.get $y))))
    (if (i32.gt_s (local.get $x1) (i32.load offset=8 (local.get $box))) (then (i32.store offset=8 (local.get $box) (local.get $x1))))
    (if (i32.gt_s (i32.add (local.get $y) (i32.const 1)) (i32.load offset=12 (local.get $box)))
      (then (i32.store offset=12 (local.get $box) (i32.add (local.get $y) (i32.const 1))))))

  ;; The first pixel index in [i, end) where any of frames b, c, d, e differs from a bit for bit, or
  ;; end (an unused slot passes a itself). a is read once for all four: the scan's fast path.
  (func $first_any_exact (param $a i32) (param $b i32) (param $c i32) (param $d i32) (param $e i32) (param $i i32) (param $end i32) (result i32)
    (local $offset i32) (local $x v128) (local $m i32)
    (block $narrow_done
      (loop $narrow
        (br_if $narrow_done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $end)))
        (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
        (local.set $x (v128.load (i32.add (local.get $a) (local.get $offset))))
        (local.set $m (i32x4.bitmask (i32x4.ne
          (v128.or
            (v128.or (v128.xor (local.get $x) (v128.load (i32.add (local.get $b) (local.get $offset))))
                     (v128.xor (local.get $x) (v128.load (i32.add (local.get $c) (local.get $offset)))))
            (v128.or (v128.xor (local.get $x) (v128.load (i32.add (local.get $d) (local.get $offset))))
                     (v128.xor (local.get $x) (v128.load (i32.add (local.get $e) (local.get $offset))))))
          (v128.const i32x4 0 0 0 0))))
        (if (local.get $m) (then (return (i32.add (local.get $i) (i32.ctz (local.get $m))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $narrow)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
        (local.set $m (i32.load (i32.add (local.get $a) (local.get $offset))))
        (if (i32.or
              (i32.or (i32.ne (local.get $m) (i32.load (i32.add (local.get $b) (local.get $offset))))
                      (i32.ne (local.get $m) (i32.load (i32.add (local.get $c) (local.get $offset)))))
              (i32.or (i32.ne (local.get $m) (i32.load (i32.add (local.get $d) (local.get $offset))))
                      (i32.ne (local.get $m) (i32.load (i32.add (local.get $e) (local.get $offset))))))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $end))

  ;; The first pixel index in [i, end) where any of b, c, d, e differs from a beyond the limit, or end.
  (func $first_any_tolerant (param $a i32) (param $b i32) (param $c i32) (param $d i32) (param $e i32) (param $i i32) (param $end i32) (param $limit v128) (result i32)
    (local $offset i32) (local $m i32)
    (block $narrow_done
      (loop $narrow
        (br_if $narrow_done (i32.gt_u (i32.add (local.get $i) (i32.const 4)) (local.get $end)))
        (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
        (local.set $m
          (i32.or
            (i32.or (call $differ4_tolerant (i32.add (local.get $a) (local.get $offset)) (i32.add (local.get $b) (local.get $offset)) (local.get $limit))
                    (call $differ4_tolerant (i32.add (local.get $a) (local.get $offset)) (i32.add (local.get $c) (local.get $offset)) (local.get $limit)))
            (i32.or (call $differ4_tolerant (i32.add (local.get $a) (local.get $offset)) (i32.add (local.get $d) (local.get $offset)) (local.get $limit))
                    (call $differ4_tolerant (i32.add (local.get $a) (local.get $offset)) (i32.add (local.get $e) (local.get $offset)) (local.get $limit)))))
        (if (local.get $m) (then (return (i32.add (local.get $i) (i32.ctz (local.get $m))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $narrow)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $offset (i32.shl (local.get $i) (i32.const 2)))
        (if (i32.or
              (i32.or (call $differ1_tolerant (i32.add (local.get $a) (local.get $offset)) (i32.add (local.get $b) (local.get $offset)) (local.get $limit))
                      (call $differ1_tolerant (i32.add (local.get $a) (local.get $offset)) (i32.add (local.get $c) (local.get $offset)) (local.get $limit)))
              (i32.or (call $differ1_tolerant (i32.add (local.get $a) (local.get $offset)) (i32.add (local.get $d) (local.get $offset)) (local.get $limit))
                      (call $differ1_tolerant (i32.add (local.get $a) (local.get $offset)) (i32.add (local.get $e) (local.get $offset)) (local.get $limit))))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $end))

;; Within one tile's row [i, tileEnd) (no difference before i): where frame o differs from a,
  ;; records it (the replica's bit, the row's first and last difference).
  (func $settle_row (param $a i32) (param $o i32) (param $bit i32) (param $i i32) (param $tileEnd i32) (param $rowStart i32) (param $y i32)
    (param $cell i32) (param $box i32) (param $exact i32) (param $limit v128)
    (local $first i32)
    (local.set $first (call $first (local.get $a) (local.get $o) (local.get $i) (local.get $tileEnd) (local.get $exact) (local.get $limit)))
    (if (i32.ge_u (local.get $first) (local.get $tileEnd)) (then (return)))
    (call $record (local.get $cell) (local.get $bit) (local.get $box)
      (i32.sub (local.get $first) (local.get $rowStart))
      (i32.add (i32.sub (call $last (local.get $a) (local.get $o) (local.get $first) (local.get $tileEnd) (local.get $exact) (local.get $limit)) (local.get $rowStart)) (i32.const 1))
      (local.get $y)))

  ;; First difference under either rule (exact when $exact is 1).
  (func $first (param $a i32) (param $b i32) (param $i i32) (param $end i32) (param $exact i32) (param $limit v128) (result i32)
    (if (result i32) (local.get $exact)
      (then (call $first_exact (local.get $a) (local.get $b) (local.get $i) (local.get $end)))
      (else (call $first_tolerant (local.get $a) (local.get $b) (local.get $i) (local.get $end) (local.get $limit)))))

  ;; Last difference under either rule.
  (func $last (param $a i32) (param $b i32) (param $lo i32) (param $hi i32) (param $exact i32) (param $limit v128) (result i32)
    (if (result i32) (local.get $exact)
      (then (call $last_exact (local.get $a) (local.get $b) (local.get $lo) (local.get $hi)))
      (else (call $last_tolerant (local.get $a) (local.get $b) (local.get $lo) (local.get $hi) (local.get $limit)))))

;; One run of the batched scan under the exact rule, every other frame in one pass: per 16-pixel
  ;; tile row, `first`'s four vectors are loaded once and XORed with each other frame's (one
  ;; any-true per frame gives the replicas that differ). Runs reach it only when at most 16 rows
  ;; high. A 16-pixel tile keeps, while its run is scanned, one packed word in its box's first slot,
  ;; XORed with 0x7fffffff so that the empty box's left edge reads as nothing found: the columns
  ;; where some replica differs (bits 0–15, the union of their 16-bit masks, formed only while not
  ;; all set) and the rows (bit 16 + the row's offset from the run's first row). After the rows, that
  ;; word becomes the box (one box per tile for all replicas): a store per differing tile row instead
  ;; of a vector min and max. Narrower tiles (tiles under 16 pixels, or a frame's right edge): each
  ;; other frame found, then settled, as the tolerant path does.
  (func $scan_exact_run
    (param $first i32) (param $others i32) (param $otherCount i32) (param $fromPx i32) (param $toPx i32)
    (param $firstY i32) (param $endY i32) (param $tileBase i32) (param $widthPx i32) (param $tileSize i32)
    (param $differing i32) (param $boxes i32) (param $limit v128)
    (local $y i32) (local $rowStart i32) (local $rowEnd i32) (local $tileStart i32) (local $tileEnd i32) (local $tile i32)
    (local $cell i32) (local $box i32) (local $p i32) (local $q i32) (local $k i32) (local $othersEnd i32)
    (local $m i32) (local $union i32) (local $bits i32) (local $x i32) (local $word i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $othersEnd (i32.add (local.get $others) (i32.shl (local.get $otherCount) (i32.const 2))))
    (local.set $y (local.get $firstY))
    (block $rows_done
      (loop $each_row
        (br_if $rows_done (i32.ge_s (local.get $y) (local.get $endY)))
        (local.set $rowStart (i32.mul (local.get $y) (local.get $widthPx)))
        (local.set $rowEnd (i32.add (local.get $rowStart) (local.get $toPx)))
        (local.set $tileStart (i32.add (local.get $rowStart) (local.get $fromPx)))
        (local.set $tile (local.get $tileBase))
        (block $tiles_done
          (loop $each_tile
            (br_if $tiles_done (i32.ge_u (local.get $tileStart) (local.get $rowEnd)))
            (local.set $tileEnd (i32.add (local.get $tileStart) (local.get $tileSize)))
            (if (i32.gt_u (local.get $tileEnd) (local.get $rowEnd)) (then (local.set $tileEnd (local.get $rowEnd))))
            (local.set $p (i32.shl (local.get $tileStart) (i32.const 2)))
            (if (i32.eq (i32.sub (local.get $tileEnd) (local.get $tileStart)) (i32.const 16))
              (then
                (local.set $q (i32.add (local.get $first) (local.get $p)))
                (local.set $a0 (v128.load (local.get $q)))
                (local.set $a1 (v128.load offset=16 (local.get $q)))
                (local.set $a2 (v128.load offset=32 (local.get $q)))
                (local.set $a3 (v128.load offset=48 (local.get $q)))
                (local.set $bits (i32.const 0))
                (local.set $k (local.get $others))
                (local.set $x (i32.const 2))
                (loop $each_other
                  (local.set $q (i32.add (i32.load (local.get $k)) (local.get $p)))
                  (local.set $bits (i32.or (local.get $bits)
                    (select (local.get $x) (i32.const 0)
                      (v128.any_true
                        (v128.or
                          (v128.or (v128.xor (local.get $a0) (v128.load (local.get $q))) (v128.xor (local.get $a1) (v128.load offset=16 (local.get $q))))
                          (v128.or (v128.xor (local.get $a2) (v128.load offset=32 (local.get $q))) (v128.xor (local.get $a3) (v128.load offset=48 (local.get $q)))))))))
                  (local.set $x (i32.shl (local.get $x) (i32.const 1)))
                  (local.set $k (i32.add (local.get $k) (i32.const 4)))
                  (br_if $each_other (i32.lt_u (local.get $k) (local.get $othersEnd))))
                (if (local.get $bits)
                  (then
                    ;; Something differs in this tile row: the replicas, the row, and (while some
                    ;; column is not yet known to differ) the columns where they differ.
                    (local.set $cell (i32.add (local.get $differing) (i32.shl (local.get $tile) (i32.const 2))))
                    (local.set $box (i32.add (local.get $boxes) (i32.shl (local.get $tile) (i32.const 4))))
                    (i32.store (local.get $cell) (i32.or (i32.load (local.get $cell)) (local.get $bits)))
                    (local.set $word (i32.or (i32.xor (i32.load (local.get $box)) (i32.const 0x7fffffff)) (i32.shl (i32.const 0x10000) (i32.sub (local.get $y) (local.get $firstY)))))
                    (if (i32.ne (i32.and (local.get $word) (i32.const 0xffff)) (i32.const 0xffff))
                      (then
                        (local.set $union (i32.const 0))
                        (local.set $m (local.get $bits))
                        (loop $each_mask
                          (local.set $k (i32.sub (i32.ctz (local.get $m)) (i32.const 1)))
                          (local.set $q (i32.add (i32.load (i32.add (local.get $others) (i32.shl (local.get $k) (i32.const 2)))) (local.get $p)))
                          (local.set $union (i32.or (local.get $union) (i8x16.bitmask (i8x16.narrow_i16x8_s
                            (i16x8.narrow_i32x4_s (i32x4.ne (local.get $a0) (v128.load (local.get $q))) (i32x4.ne (local.get $a1) (v128.load offset=16 (local.get $q))))
                            (i16x8.narrow_i32x4_s (i32x4.ne (local.get $a2) (v128.load offset=32 (local.get $q))) (i32x4.ne (local.get $a3) (v128.load offset=48 (local.get $q))))))))
                          (local.set $m (i32.and (local.get $m) (i32.sub (local.get $m) (i32.const 1))))
                          (br_if $each_mask (local.get $m)))
                        (local.set $word (i32.or (local.get $word) (local.get $union)))))
                    (i32.store (local.get $box) (i32.xor (local.get $word) (i32.const 0x7fffffff))))))
              (else
                (local.set $cell (i32.add (local.get $differing) (i32.shl (local.get $tile) (i32.const 2))))
                (local.set $box (i32.add (local.get $boxes) (i32.shl (local.get $tile) (i32.const 4))))
                (local.set $k (i32.const 0))
                (loop $each_settled
                  (call $settle_row
                    (local.get $first)
                    (i32.load (i32.add (local.get $others) (i32.shl (local.get $k) (i32.const 2))))
                    (i32.shl (i32.const 2) (local.get $k))
                    (local.get $tileStart) (local.get $tileEnd) (local.get $rowStart) (local.get $y)
                    (local.get $cell) (local.get $box) (i32.const 1) (local.get $limit))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br_if $each_settled (i32.lt_u (local.get $k) (local.get $otherCount))))))
            (local.set $tileStart (local.get $tileEnd))
            (local.set $tile (i32.add (local.get $tile) (i32.const 1)))
            (br $each_tile)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $each_row)))
    ;; Packed words to boxes: (left, top, right, bottom) from the lowest and highest column and row
    ;; bits; a tile where nothing differed gets its empty box back.
    (if (i32.eq (local.get $tileSize) (i32.const 16))
      (then
        (local.set $tile (local.get $tileBase))
        (local.set $x (local.get $fromPx))
        (block $finished
          (loop $finish
            (br_if $finished (i32.gt_u (i32.add (local.get $x) (i32.const 16)) (local.get $toPx)))
            (local.set $box (i32.add (local.get $boxes) (i32.shl (local.get $tile) (i32.const 4))))
            (local.set $word (i32.xor (i32.load (local.get $box)) (i32.const 0x7fffffff)))
            (if (local.get $word)
              (then
                (local.set $m (i32.shr_u (local.get $word) (i32.const 16)))
                (local.set $word (i32.and (local.get $word) (i32.const 0xffff)))
                (i32.store (local.get $box) (i32.add (local.get $x) (i32.ctz (local.get $word))))
                (i32.store offset=4 (local.get $box) (i32.add (local.get $firstY) (i32.ctz (local.get $m))))
                (i32.store offset=8 (local.get $box) (i32.sub (i32.add (local.get $x) (i32.const 32)) (i32.clz (local.get $word))))
                (i32.store offset=12 (local.get $box) (i32.sub (i32.add (local.get $firstY) (i32.const 32)) (i32.clz (local.get $m))))))
            (local.set $tile (i32.add (local.get $tile) (i32.const 1)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (br $finish))))))

;; The batched scan (DivergenceEngine.comparePixelBatch's fast path), every run of one tick in one
  ;; call. `others`: otherCount frame pointers (i32); other k carries bit 1 << (k + 1). `runs`:
  ;; runCount records of five i32 (fromPx, toPx, firstY, endY, the first tile of that tile row):
  ;; adjacent tiles of one tile row, fromPx on a tile's left edge. For every tile of a run and every
  ;; other replica differing from `first` in it, sets the replica's bit in differing[tile] (u32 per
  ;; tile) and grows the tile's box in `boxes` (four i32 per tile: left, top, right, bottom) to each
  ;; row's first and last difference; both are cleared first for every tile of the runs. Exact
  ;; (tiles up to 16 pixels high): every other frame in one pass ($scan_exact_run). Under a tolerance
  ;; or with taller tiles: four other frames at a time
  ;; against one read of `first`, row by row, tile by tile (a frame-wide run reads each frame as one
  ;; sequential stream). A 16-pixel tile row is one step: one test for all four, then, only where
  ;; something differs, a 16-bit mask per replica gives its first and last difference at once.
  ;; Other widths: find, then settle.
  (func (export "scan")
    (param $first i32) (param $others i32) (param $otherCount i32) (param $runs i32) (param $runCount i32)
    (param $widthPx i32) (param $tileSize i32) (param $maxDelta i32) (param $differing i32) (param $boxes i32)
    (local $exact i32) (local $packed i32) (local $limit v128) (local $record i32) (local $recordsEnd i32)
    (local $fromPx i32) (local $toPx i32) (local $firstY i32) (local $endY i32) (local $tileBase i32)
    (local $group i32) (local $members i32) (local $b i32) (local $c i32) (local $d i32) (local $e i32)
    (local $y i32) (local $rowStart i32) (local $rowEnd i32) (local $tileStart i32) (local $tileEnd i32) (local $tile i32)
    (local $i i32) (local $cell i32) (local $box i32) (local $member i32) (local $other i32) (local $x i32)
    (local $b0 i32) (local $c0 i32) (local $d0 i32) (local $e0 i32) (local $p i32)
    (local $v v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $m0 i32) (local $m1 i32) (local $m2 i32) (local $m3 i32)
    ;; A box edge read and written back without a branch (a difference's column is unpredictable).
    (local $old i32)
    (local.set $exact (i32.lt_s (local.get $maxDelta) (i32.const 0)))
    (local.set $limit (call $limit_of (local.get $maxDelta)))
    (local.set $record (local.get $runs))
    (local.set $recordsEnd (i32.add (local.get $runs) (i32.mul (local.get $runCount) (i32.const 20))))
    (block $runs_done
      (loop $each_run
        (br_if $runs_done (i32.ge_u (local.get $record) (local.get $recordsEnd)))
        (local.set $fromPx (i32.load (local.get $record)))
        (local.set $toPx (i32.load offset=4 (local.get $record)))
        (local.set $firstY (i32.load offset=8 (local.get $record)))
        (local.set $endY (i32.load offset=12 (local.get $record)))
        (local.set $tileBase (i32.add (i32.load offset=16 (local.get $record)) (i32.div_u (local.get $fromPx) (local.get $tileSize))))
        ;; The run's tiles start clean: no replica differing, an empty box (left and top at the
        ;; largest i32, right and bottom at -1).
        (local.set $tile (local.get $tileBase))
        (local.set $x (local.get $fromPx))
        (block $cleared
          (loop $clear
            (br_if $cleared (i32.ge_u (local.get $x) (local.get $toPx)))
            (i32.store (i32.add (local.get $differing) (i32.shl (local.get $tile) (i32.const 2))) (i32.const 0))
            (v128.store (i32.add (local.get $boxes) (i32.shl (local.get $tile) (i32.const 4))) (v128.const i32x4 0x7fffffff 0x7fffffff -1 -1))
            (local.set $tile (i32.add (local.get $tile) (i32.const 1)))
            (local.set $x (i32.add (local.get $x) (local.get $tileSize)))
            (br $clear)))
        ;; Exact, tiles up to 16 pixels high: every other frame in one pass ($scan_exact_run); the
        ;; groups of four below are the tolerant rule's and taller tiles'.
        (local.set $packed (i32.and (local.get $exact) (i32.le_s (i32.sub (local.get $endY) (local.get $firstY)) (i32.const 16))))
        (local.set $group (select (local.get $otherCount) (i32.const 0) (local.get $packed)))
        (if (i32.and (local.get $packed) (i32.gt_u (local.get $otherCount) (i32.const 0)))
          (then
            (call $scan_exact_run (local.get $first) (local.get $others) (local.get $otherCount)
              (local.get $fromPx) (local.get $toPx) (local.get $firstY) (local.get $endY) (local.get $tileBase)
              (local.get $widthPx) (local.get $tileSize) (local.get $differing) (local.get $boxes) (local.get $limit))))
        (block $groups_done
          (loop $each_group
            (br_if $groups_done (i32.ge_u (local.get $group) (local.get $otherCount)))
            ;; Up to four others; an empty slot reads `first` itself (never differs).
            (local.set $members (i32.sub (local.get $otherCount) (local.get $group)))
            (if (i32.gt_u (local.get $members) (i32.const 4)) (then (local.set $members (i32.const 4))))
            (local.set $b0 (call $member_or (local.get $others) (local.get $group) (i32.const 0) (local.get $members) (local.get $first)))
            (local.set $c0 (call $member_or (local.get $others) (local.get $group) (i32.const 1) (local.get $members) (local.get $first)))
            (local.set $d0 (call $member_or (local.get $others) (local.get $group) (i32.const 2) (local.get $members) (local.get $first)))
            (local.set $e0 (call $member_or (local.get $others) (local.get $group) (i32.const 3) (local.get $members) (local.get $first)))
            (local.set $y (local.get $firstY))
            (block $rows_done
              (loop $each_row
                (br_if $rows_done (i32.ge_s (local.get $y) (local.get $endY)))
                (local.set $rowStart (i32.mul (local.get $y) (local.get $widthPx)))
                (local.set $rowEnd (i32.add (local.get $rowStart) (local.get $toPx)))
                (local.set $tileStart (i32.add (local.get $rowStart) (local.get $fromPx)))
                (local.set $tile (local.get $tileBase))
                (block $tiles_done
                  (loop $each_tile
                    (br_if $tiles_done (i32.ge_u (local.get $tileStart) (local.get $rowEnd)))
                    (local.set $tileEnd (i32.add (local.get $tileStart) (local.get $tileSize)))
                    (if (i32.gt_u (local.get $tileEnd) (local.get $rowEnd)) (then (local.set $tileEnd (local.get $rowEnd))))
                    (local.set $cell (i32.add (local.get $differing) (i32.shl (local.get $tile) (i32.const 2))))
                    (local.set $box (i32.add (local.get $boxes) (i32.shl (local.get $tile) (i32.const 4))))
                    (if (i32.eq (i32.sub (local.get $tileEnd) (local.get $tileStart)) (i32.const 16))
                      (then
                        ;; One 16-pixel tile row: a 16-bit mask per replica (bit k: pixel k differs),
                        ;; all inline (calls are not inlined by every engine), `first` loaded once.
                        (local.set $p (i32.add (local.get $first) (i32.shl (local.get $tileStart) (i32.const 2))))
                        (local.set $a0 (v128.load (local.get $p)))
                        (local.set $a1 (v128.load offset=16 (local.get $p)))
                        (local.set $a2 (v128.load offset=32 (local.get $p)))
                        (local.set $a3 (v128.load offset=48 (local.get $p)))
                        (local.set $p (i32.shl (local.get $tileStart) (i32.const 2)))
                        (local.set $b (i32.add (local.get $b0) (local.get $p)))
                        (local.set $c (i32.add (local.get $c0) (local.get $p)))
                        (local.set $d (i32.add (local.get $d0) (local.get $p)))
                        (local.set $e (i32.add (local.get $e0) (local.get $p)))
                        (if (local.get $exact)
                          (then
                            (local.set $m0 (i8x16.bitmask (i8x16.narrow_i16x8_s
                                (i16x8.narrow_i32x4_s (i32x4.ne (local.get $a0) (v128.load offset=0 (local.get $b))) (i32x4.ne (local.get $a1) (v128.load offset=16 (local.get $b))))
                                (i16x8.narrow_i32x4_s (i32x4.ne (local.get $a2) (v128.load offset=32 (local.get $b))) (i32x4.ne (local.get $a3) (v128.load offset=48 (local.get $b)))))))
                            (local.set $m1 (if (result i32) (i32.gt_u (local.get $members) (i32.const 1)) (then (i8x16.bitmask (i8x16.narrow_i16x8_s
                                (i16x8.narrow_i32x4_s (i32x4.ne (local.get $a0) (v128.load offset=0 (local.get $c))) (i32x4.ne (local.get $a1) (v128.load offset=16 (local.get $c))))
                                (i16x8.narrow_i32x4_s (i32x4.ne (local.get $a2) (v128.load offset=32 (local.get $c))) (i32x4.ne (local.get $a3) (v128.load offset=48 (local.get $c))))))) (else (i32.const 0))))
                            (local.set $m2 (if (result i32) (i32.gt_u (local.get $members) (i32.const 2)) (then (i8x16.bitmask (i8x16.narrow_i16x8_s
                                (i16x8.narrow_i32x4_s (i32x4.ne (local.get $a0) (v128.load offset=0 (local.get $d))) (i32x4.ne (local.get $a1) (v128.load offset=16 (local.get $d))))
                                (i16x8.narrow_i32x4_s (i32x4.ne (local.get $a2) (v128.load offset=32 (local.get $d))) (i32x4.ne (local.get $a3) (v128.load offset=48 (local.get $d))))))) (else (i32.const 0))))
                            (local.set $m3 (if (result i32) (i32.gt_u (local.get $members) (i32.const 3)) (then (i8x16.bitmask (i8x16.narrow_i16x8_s
                                (i16x8.narrow_i32x4_s (i32x4.ne (local.get $a0) (v128.load offset=0 (local.get $e))) (i32x4.ne (local.get $a1) (v128.load offset=16 (local.get $e))))
                                (i16x8.narrow_i32x4_s (i32x4.ne (local.get $a2) (v128.load offset=32 (local.get $e))) (i32x4.ne (local.get $a3) (v128.load offset=48 (local.get $e))))))) (else (i32.const 0)))))
                          (else
                            (local.set $m0 (i8x16.bitmask (i8x16.narrow_i16x8_s
                                (i16x8.narrow_i32x4_s (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a0) (local.tee $v (v128.load offset=0 (local.get $b)))) (i8x16.sub_sat_u (local.get $v) (local.get $a0))) (local.get $limit)) (v128.const i32x4 0 0 0 0)) (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a1) (local.tee $v (v128.load offset=16 (local.get $b)))) (i8x16.sub_sat_u (local.get $v) (local.get $a1))) (local.get $limit)) (v128.const i32x4 0 0 0 0)))
                                (i16x8.narrow_i32x4_s (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a2) (local.tee $v (v128.load offset=32 (local.get $b)))) (i8x16.sub_sat_u (local.get $v) (local.get $a2))) (local.get $limit)) (v128.const i32x4 0 0 0 0)) (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a3) (local.tee $v (v128.load offset=48 (local.get $b)))) (i8x16.sub_sat_u (local.get $v) (local.get $a3))) (local.get $limit)) (v128.const i32x4 0 0 0 0))))))
                            (local.set $m1 (if (result i32) (i32.gt_u (local.get $members) (i32.const 1)) (then (i8x16.bitmask (i8x16.narrow_i16x8_s
                                (i16x8.narrow_i32x4_s (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a0) (local.tee $v (v128.load offset=0 (local.get $c)))) (i8x16.sub_sat_u (local.get $v) (local.get $a0))) (local.get $limit)) (v128.const i32x4 0 0 0 0)) (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a1) (local.tee $v (v128.load offset=16 (local.get $c)))) (i8x16.sub_sat_u (local.get $v) (local.get $a1))) (local.get $limit)) (v128.const i32x4 0 0 0 0)))
                                (i16x8.narrow_i32x4_s (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a2) (local.tee $v (v128.load offset=32 (local.get $c)))) (i8x16.sub_sat_u (local.get $v) (local.get $a2))) (local.get $limit)) (v128.const i32x4 0 0 0 0)) (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a3) (local.tee $v (v128.load offset=48 (local.get $c)))) (i8x16.sub_sat_u (local.get $v) (local.get $a3))) (local.get $limit)) (v128.const i32x4 0 0 0 0)))))) (else (i32.const 0))))
                            (local.set $m2 (if (result i32) (i32.gt_u (local.get $members) (i32.const 2)) (then (i8x16.bitmask (i8x16.narrow_i16x8_s
                                (i16x8.narrow_i32x4_s (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a0) (local.tee $v (v128.load offset=0 (local.get $d)))) (i8x16.sub_sat_u (local.get $v) (local.get $a0))) (local.get $limit)) (v128.const i32x4 0 0 0 0)) (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a1) (local.tee $v (v128.load offset=16 (local.get $d)))) (i8x16.sub_sat_u (local.get $v) (local.get $a1))) (local.get $limit)) (v128.const i32x4 0 0 0 0)))
                                (i16x8.narrow_i32x4_s (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a2) (local.tee $v (v128.load offset=32 (local.get $d)))) (i8x16.sub_sat_u (local.get $v) (local.get $a2))) (local.get $limit)) (v128.const i32x4 0 0 0 0)) (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a3) (local.tee $v (v128.load offset=48 (local.get $d)))) (i8x16.sub_sat_u (local.get $v) (local.get $a3))) (local.get $limit)) (v128.const i32x4 0 0 0 0)))))) (else (i32.const 0))))
                            (local.set $m3 (if (result i32) (i32.gt_u (local.get $members) (i32.const 3)) (then (i8x16.bitmask (i8x16.narrow_i16x8_s
                                (i16x8.narrow_i32x4_s (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a0) (local.tee $v (v128.load offset=0 (local.get $e)))) (i8x16.sub_sat_u (local.get $v) (local.get $a0))) (local.get $limit)) (v128.const i32x4 0 0 0 0)) (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a1) (local.tee $v (v128.load offset=16 (local.get $e)))) (i8x16.sub_sat_u (local.get $v) (local.get $a1))) (local.get $limit)) (v128.const i32x4 0 0 0 0)))
                                (i16x8.narrow_i32x4_s (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a2) (local.tee $v (v128.load offset=32 (local.get $e)))) (i8x16.sub_sat_u (local.get $v) (local.get $a2))) (local.get $limit)) (v128.const i32x4 0 0 0 0)) (i32x4.ne (i8x16.gt_u (v128.or (i8x16.sub_sat_u (local.get $a3) (local.tee $v (v128.load offset=48 (local.get $e)))) (i8x16.sub_sat_u (local.get $v) (local.get $a3))) (local.get $limit)) (v128.const i32x4 0 0 0 0)))))) (else (i32.const 0))))))
                        (if (i32.or (i32.or (local.get $m0) (local.get $m1)) (i32.or (local.get $m2) (local.get $m3)))
                          (then
                            (local.set $x (i32.sub (local.get $tileStart) (local.get $rowStart)))
                            (if (local.get $m0)
                              (then
                                (i32.store (local.get $cell) (i32.or (i32.load (local.get $cell)) (i32.shl (i32.const 2) (i32.add (local.get $group) (i32.const 0)))))
                                (local.set $i (i32.add (local.get $x) (i32.ctz (local.get $m0))))
                                (i32.store (local.get $box) (select (local.get $i) (local.tee $old (i32.load (local.get $box))) (i32.lt_s (local.get $i) (local.get $old))))
                                (if (i32.lt_s (local.get $y) (i32.load offset=4 (local.get $box))) (then (i32.store offset=4 (local.get $box) (local.get $y))))
                                (local.set $i (i32.sub (i32.add (local.get $x) (i32.const 32)) (i32.clz (local.get $m0))))
                                (i32.store offset=8 (local.get $box) (select (local.get $i) (local.tee $old (i32.load offset=8 (local.get $box))) (i32.gt_s (local.get $i) (local.get $old))))
                                (if (i32.ge_s (local.get $y) (i32.load offset=12 (local.get $box))) (then (i32.store offset=12 (local.get $box) (i32.add (local.get $y) (i32.const 1)))))))
                            (if (local.get $m1)
                              (then
                                (i32.store (local.get $cell) (i32.or (i32.load (local.get $cell)) (i32.shl (i32.const 2) (i32.add (local.get $group) (i32.const 1)))))
                                (local.set $i (i32.add (local.get $x) (i32.ctz (local.get $m1))))
                                (i32.store (local.get $box) (select (local.get $i) (local.tee $old (i32.load (local.get $box))) (i32.lt_s (local.get $i) (local.get $old))))
                                (if (i32.lt_s (local.get $y) (i32.load offset=4 (local.get $box))) (then (i32.store offset=4 (local.get $box) (local.get $y))))
                                (local.set $i (i32.sub (i32.add (local.get $x) (i32.const 32)) (i32.clz (local.get $m1))))
                                (i32.store offset=8 (local.get $box) (select (local.get $i) (local.tee $old (i32.load offset=8 (local.get $box))) (i32.gt_s (local.get $i) (local.get $old))))
                                (if (i32.ge_s (local.get $y) (i32.load offset=12 (local.get $box))) (then (i32.store offset=12 (local.get $box) (i32.add (local.get $y) (i32.const 1)))))))
                            (if (local.get $m2)
                              (then
                                (i32.store (local.get $cell) (i32.or (i32.load (local.get $cell)) (i32.shl (i32.const 2) (i32.add (local.get $group) (i32.const 2)))))
                                (local.set $i (i32.add (local.get $x) (i32.ctz (local.get $m2))))
                                (i32.store (local.get $box) (select (local.get $i) (local.tee $old (i32.load (local.get $box))) (i32.lt_s (local.get $i) (local.get $old))))
                                (if (i32.lt_s (local.get $y) (i32.load offset=4 (local.get $box))) (then (i32.store offset=4 (local.get $box) (local.get $y))))
                                (local.set $i (i32.sub (i32.add (local.get $x) (i32.const 32)) (i32.clz (local.get $m2))))
                                (i32.store offset=8 (local.get $box) (select (local.get $i) (local.tee $old (i32.load offset=8 (local.get $box))) (i32.gt_s (local.get $i) (local.get $old))))
                                (if (i32.ge_s (local.get $y) (i32.load offset=12 (local.get $box))) (then (i32.store offset=12 (local.get $box) (i32.add (local.get $y) (i32.const 1)))))))
                            (if (local.get $m3)
                              (then
                                (i32.store (local.get $cell) (i32.or (i32.load (local.get $cell)) (i32.shl (i32.const 2) (i32.add (local.get $group) (i32.const 3)))))
                                (local.set $i (i32.add (local.get $x) (i32.ctz (local.get $m3))))
                                (i32.store (local.get $box) (select (local.get $i) (local.tee $old (i32.load (local.get $box))) (i32.lt_s (local.get $i) (local.get $old))))
                                (if (i32.lt_s (local.get $y) (i32.load offset=4 (local.get $box))) (then (i32.store offset=4 (local.get $box) (local.get $y))))
                                (local.set $i (i32.sub (i32.add (local.get $x) (i32.const 32)) (i32.clz (local.get $m3))))
                                (i32.store offset=8 (local.get $box) (select (local.get $i) (local.tee $old (i32.load offset=8 (local.get $box))) (i32.gt_s (local.get $i) (local.get $old))))
                                (if (i32.ge_s (local.get $y) (i32.load offset=12 (local.get $box))) (then (i32.store offset=12 (local.get $box) (i32.add (local.get $y) (i32.const 1))))))))))
                      (else
                        (local.set $i
                          (if (result i32) (local.get $exact)
                            (then (call $first_any_exact (local.get $first) (local.get $b0) (local.get $c0) (local.get $d0) (local.get $e0) (local.get $tileStart) (local.get $tileEnd)))
                            (else (call $first_any_tolerant (local.get $first) (local.get $b0) (local.get $c0) (local.get $d0) (local.get $e0) (local.get $tileStart) (local.get $tileEnd) (local.get $limit)))))
                        (if (i32.lt_u (local.get $i) (local.get $tileEnd))
                          (then
                            (local.set $member (i32.const 0))
                            (block $settled
                              (loop $each_member
                                (br_if $settled (i32.ge_u (local.get $member) (local.get $members)))
                                (local.set $other (i32.add (local.get $group) (local.get $member)))
                                (call $settle_row
                                  (local.get $first)
                                  (i32.load (i32.add (local.get $others) (i32.shl (local.get $other) (i32.const 2))))
                                  (i32.shl (i32.const 2) (local.get $other))
                                  (local.get $i) (local.get $tileEnd) (local.get $rowStart) (local.get $y)
                                  (local.get $cell) (local.get $box) (local.get $exact) (local.get $limit))
                                (local.set $member (i32.add (local.get $member) (i32.const 1)))
                                (br $each_member)))))))
                    (local.set $tileStart (local.get $tileEnd))
                    (local.set $tile (i32.add (local.get $tile) (i32.const 1)))
                    (br $each_tile)))
                (local.set $y (i32.add (local.get $y) (i32.const 1)))
                (br $each_row)))
            (local.set $group (i32.add (local.get $group) (i32.const 4)))
            (br $each_group)))
        (local.set $record (i32.add (local.get $record) (i32.const 20)))
        (br $each_run))))

  ;; others[group + slot] when slot < members, else `fallback`.
  (func $member_or (param $others i32) (param $group i32) (param $slot i32) (param $members i32) (param $fallback i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $slot) (local.get $members))
      (then (i32.load (i32.add (local.get $others) (i32.shl (i32.add (local.get $group) (local.get $slot)) (i32.const 2)))))
      (else (local.get $fallback))))

  ;; 1 when the tile (left, top, width, height) of frames a and b (stride in pixels) agrees: at most
  ;; `allowed` pixels differ (exact, or beyond the tolerance); 0 as soon as one more does.
  (func (export "tiles_agree")
    (param $a i32) (param $b i32) (param $stride i32) (param $left i32) (param $top i32) (param $width i32) (param $height i32)
    (param $maxDelta i32) (param $allowed i32) (result i32)
    (local $exact i32) (local $limit v128) (local $row i32) (local $i i32) (local $end i32) (local $count i32)
    (local.set $exact (i32.lt_s (local.get $maxDelta) (i32.const 0)))
    (local.set $limit (call $limit_of (local.get $maxDelta)))
    (block $rows_done
      (loop $each_row
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $height)))
        (local.set $i (i32.add (i32.mul (i32.add (local.get $top) (local.get $row)) (local.get $stride)) (local.get $left)))
        (local.set $end (i32.add (local.get $i) (local.get $width)))
        (block $row_done
          (loop $each_difference
            (local.set $i (call $first (local.get $a) (local.get $b) (local.get $i) (local.get $end) (local.get $exact) (local.get $limit)))
            (br_if $row_done (i32.ge_u (local.get $i) (local.get $end)))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            (if (i32.gt_u (local.get $count) (local.get $allowed)) (then (return (i32.const 0))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $each_difference)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $each_row)))
    (i32.const 1))

  ;; Grows the box at `box` (four i32: left, top, right, bottom, framebuffer pixels) to hold every
  ;; pixel of the tile where a and b differ; per row, the first difference from the left and the last
  ;; from the right. Returns 1 when any pixel differs.
  (func (export "grow_box")
    (param $a i32) (param $b i32) (param $stride i32) (param $left i32) (param $top i32) (param $width i32) (param $height i32)
    (param $maxDelta i32) (param $box i32) (result i32)
    (local $exact i32) (local $limit v128) (local $row i32) (local $y i32) (local $rowStart i32) (local $i i32) (local $end i32)
    (local $last i32) (local $x i32) (local $found i32)
    (local.set $exact (i32.lt_s (local.get $maxDelta) (i32.const 0)))
    (local.set $limit (call $limit_of (local.get $maxDelta)))
    (block $rows_done
      (loop $each_row
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $height)))
        (local.set $y (i32.add (local.get $top) (local.get $row)))
        (local.set $rowStart (i32.mul (local.get $y) (local.get $stride)))
        (local.set $end (i32.add (i32.add (local.get $rowStart) (local.get $left)) (local.get $width)))
        (local.set $i (call $first (local.get $a) (local.get $b) (i32.add (local.get $rowStart) (local.get $left)) (local.get $end) (local.get $exact) (local.get $limit)))
        (if (i32.lt_u (local.get $i) (local.get $end))
          (then
            (local.set $last (call $last (local.get $a) (local.get $b) (local.get $i) (local.get $end) (local.get $exact) (local.get $limit)))
            (local.set $found (i32.const 1))
            (local.set $x (i32.sub (local.get $i) (local.get $rowStart)))
            (if (i32.lt_s (local.get $x) (i32.load (local.get $box))) (then (i32.store (local.get $box) (local.get $x))))
            (if (i32.lt_s (local.get $y) (i32.load offset=4 (local.get $box))) (then (i32.store offset=4 (local.get $box) (local.get $y))))
            (local.set $x (i32.add (i32.sub (local.get $last) (local.get $rowStart)) (i32.const 1)))
            (if (i32.gt_s (local.get $x) (i32.load offset=8 (local.get $box))) (then (i32.store offset=8 (local.get $box) (local.get $x))))
            (if (i32.gt_s (i32.add (local.get $y) (i32.const 1)) (i32.load offset=12 (local.get $box)))
              (then (i32.store offset=12 (local.get $box) (i32.add (local.get $y) (i32.const 1)))))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $each_row)))
    (local.get $found))

  ;; Tile history (replica-framebuffer.ts, HISTORY_LAYOUT): one block per framebuffer at `history`,
  ;; `tiles` tiles; byte offsets per tile: startMs f64[12] at 0, pendingMs f64 at 96, touched i32 at
  ;; 200, flushed i32 at 204, flags u8[12] at 208, newest u8 at 220, entries u8 at 221, listed u8 at
  ;; 222, echo u8 at 223; entry p of tile t at p × tiles + t. Flags: 0 unhashed, 1 hashed, 2 initial;
  ;; 12 entries.

  ;; ReplicaFramebuffer.flush's cold path over touched[0..count): a change written at least
  ;; blinkMs after its tile's newest entry began (or after the initial blank state) becomes a new
  ;; unhashed entry and is appended to `flushed`; a hot one (it may be part of a blink: JavaScript
  ;; fingerprints it) is moved to the head of `touched`. Returns hot << 32 | cold.
  ;; With `serials` (not 0; u32 per tile) and `watched` (u8 per tile), the engine's bookkeeping is
  ;; done here too: each cold tile's serial goes up by one, and only the tiles not watched yet are
  ;; marked watched and appended to `flushed` (then counted in place of the cold ones).
  (func (export "flush_cold") (param $history i32) (param $tiles i32) (param $count i32) (param $blinkMs f64) (param $serials i32) (param $watched i32) (result i64)
    (local $index i32) (local $tile i32) (local $writtenMs f64) (local $position i32) (local $slot i32) (local $cold i32) (local $hot i32) (local $at i32)
    (local $pending i32) (local $touched i32) (local $flushed i32) (local $flags i32) (local $newest i32) (local $entries i32)
    (local.set $pending (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 96))))
    (local.set $touched (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 200))))
    (local.set $flushed (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 204))))
    (local.set $flags (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 208))))
    (local.set $newest (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 220))))
    (local.set $entries (i32.add (local.get $newest) (local.get $tiles)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $index) (local.get $count)))
        (local.set $tile (i32.load (i32.add (local.get $touched) (i32.shl (local.get $index) (i32.const 2)))))
        (local.set $index (i32.add (local.get $index) (i32.const 1)))
        ;; listed[tile] = 0
        (i32.store8 (i32.add (i32.add (local.get $entries) (local.get $tiles)) (local.get $tile)) (i32.const 0))
        (local.set $writtenMs (f64.load (i32.add (local.get $pending) (i32.shl (local.get $tile) (i32.const 3)))))
        (br_if $each (f64.ne (local.get $writtenMs) (local.get $writtenMs)))
        (local.set $position (i32.load8_u (i32.add (local.get $newest) (local.get $tile))))
        (local.set $slot (i32.add (i32.mul (local.get $position) (local.get $tiles)) (local.get $tile)))
        (if (i32.and
              (i32.ne (i32.load8_u (i32.add (local.get $flags) (local.get $slot))) (i32.const 2))
              (f64.lt (f64.sub (local.get $writtenMs) (f64.load (i32.add (local.get $history) (i32.shl (local.get $slot) (i32.const 3))))) (local.get $blinkMs)))
          (then
            (i32.store (i32.add (local.get $touched) (i32.shl (local.get $hot) (i32.const 2))) (local.get $tile))
            (local.set $hot (i32.add (local.get $hot) (i32.const 1)))
            (br $each)))
        (f64.store (i32.add (local.get $pending) (i32.shl (local.get $tile) (i32.const 3))) (f64.const nan))
        (local.set $position (i32.add (local.get $position) (i32.const 1)))
        (if (i32.eq (local.get $position) (i32.const 12)) (then (local.set $position (i32.const 0))))
        (i32.store8 (i32.add (local.get $newest) (local.get $tile)) (local.get $position))
        (local.set $slot (i32.load8_u (i32.add (local.get $entries) (local.get $tile))))
        (if (i32.lt_u (local.get $slot) (i32.const 12))
          (then (i32.store8 (i32.add (local.get $entries) (local.get $tile)) (i32.add (local.get $slot) (i32.const 1)))))
        (local.set $slot (i32.add (i32.mul (local.get $position) (local.get $tiles)) (local.get $tile)))
        (f64.store (i32.add (local.get $history) (i32.shl (local.get $slot) (i32.const 3))) (local.get $writtenMs))
        (i32.store8 (i32.add (local.get $flags) (local.get $slot)) (i32.const 0))
        ;; echo[tile] = 0: the new entry is not fingerprinted
        (i32.store8 (i32.add (i32.add (local.get $entries) (i32.shl (local.get $tiles) (i32.const 1))) (local.get $tile)) (i32.const 0))
        (if (local.get $serials)
          (then
            (local.set $at (i32.add (local.get $serials) (i32.shl (local.get $tile) (i32.const 2))))
            (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
            (local.set $at (i32.add (local.get $watched) (local.get $tile)))
            (br_if $each (i32.load8_u (local.get $at)))
            (i32.store8 (local.get $at) (i32.const 1))))
        (i32.store (i32.add (local.get $flushed) (i32.shl (local.get $cold) (i32.const 2))) (local.get $tile))
        (local.set $cold (i32.add (local.get $cold) (i32.const 1)))
        (br $each)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $hot)) (i64.const 32)) (i64.extend_i32_u (local.get $cold))))

  ;; ReplicaFramebuffer.flush's hot path over touched[0..count) (the hot tiles flush_cold left at its
  ;; head): each tile of the framebuffer at `pixels` (`widthPx` × `heightPx`, tiles of `tileSize`,
  ;; `columns` per row) is fingerprinted with hash_tile (the engine's seed; `scratch`: its 128 bytes); the same
  ;; fingerprint as the newest entry's is no change; otherwise it becomes a new fingerprinted entry,
  ;; its echo noted (some older fingerprinted entry has the same fingerprint), and the tile is appended
  ;; to `flushed`. A tile whose width is not a multiple of 4 (hash_tile's chunks) is left for
  ;; JavaScript, moved to the head of `touched`. Only for a framebuffer without masks. Returns
  ;; left << 32 | changed.
  (func (export "flush_hot")
    (param $history i32) (param $tiles i32) (param $count i32) (param $pixels i32) (param $widthPx i32) (param $heightPx i32)
    (param $tileSize i32) (param $columns i32) (param $seedLow i32) (param $seedHigh i32) (param $scratch i32) (result i64)
    (local $index i32) (local $tile i32) (local $slot i32) (local $position i32) (local $left i32) (local $top i32)
    (local $width i32) (local $height i32) (local $lo i32) (local $hi i32) (local $writtenMs f64) (local $changed i32)
    (local $leftOver i32) (local $echo i32) (local $step i32) (local $at i32) (local $older i32)
    (local $pending i32) (local $hashLow i32) (local $hashHigh i32) (local $touched i32) (local $flushed i32)
    (local $flags i32) (local $newest i32) (local $entries i32) (local $writeMs i32) (local $writeLow i32) (local $writeHigh i32)
    (local.set $pending (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 96))))
    (local.set $writeMs (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 224))))
    (local.set $writeLow (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 232))))
    (local.set $writeHigh (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 236))))
    (local.set $hashLow (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 104))))
    (local.set $hashHigh (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 152))))
    (local.set $touched (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 200))))
    (local.set $flushed (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 204))))
    (local.set $flags (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 208))))
    (local.set $newest (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 220))))
    (local.set $entries (i32.add (local.get $newest) (local.get $tiles)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $index) (local.get $count)))
        (local.set $tile (i32.load (i32.add (local.get $touched) (i32.shl (local.get $index) (i32.const 2)))))
        (local.set $index (i32.add (local.get $index) (i32.const 1)))
        (local.set $left (i32.mul (i32.rem_u (local.get $tile) (local.get $columns)) (local.get $tileSize)))
        (local.set $top (i32.mul (i32.div_u (local.get $tile) (local.get $columns)) (local.get $tileSize)))
        (local.set $width (i32.sub (local.get $widthPx) (local.get $left)))
        (if (i32.gt_s (local.get $width) (local.get $tileSize)) (then (local.set $width (local.get $tileSize))))
        (local.set $height (i32.sub (local.get $heightPx) (local.get $top)))
        (if (i32.gt_s (local.get $height) (local.get $tileSize)) (then (local.set $height (local.get $tileSize))))
        (if (i32.and (local.get $width) (i32.const 3))
          (then
            (i32.store (i32.add (local.get $touched) (i32.shl (local.get $leftOver) (i32.const 2))) (local.get $tile))
            (local.set $leftOver (i32.add (local.get $leftOver) (i32.const 1)))
            (br $each)))
        (local.set $writtenMs (f64.load (i32.add (local.get $pending) (i32.shl (local.get $tile) (i32.const 3)))))
        (f64.store (i32.add (local.get $pending) (i32.shl (local.get $tile) (i32.const 3))) (f64.const nan))
        ;; The fingerprint copy_tiles took of this very write, or the tile read again.
        (if (f64.eq (local.get $writtenMs) (f64.load (i32.add (local.get $writeMs) (i32.shl (local.get $tile) (i32.const 3)))))
          (then
            (local.set $lo (i32.load (i32.add (local.get $writeLow) (i32.shl (local.get $tile) (i32.const 2)))))
            (local.set $hi (i32.load (i32.add (local.get $writeHigh) (i32.shl (local.get $tile) (i32.const 2))))))
          (else
            (call $hash_tile (local.get $pixels) (local.get $widthPx) (local.get $left) (local.get $top) (local.get $width) (local.get $height)
              (local.get $seedLow) (local.get $seedHigh) (local.get $scratch))
            (local.set $lo (i32.load (local.get $scratch)))
            (local.set $hi (i32.load offset=4 (local.get $scratch)))))
        (local.set $position (i32.load8_u (i32.add (local.get $newest) (local.get $tile))))
        (local.set $slot (i32.add (i32.mul (local.get $position) (local.get $tiles)) (local.get $tile)))
        ;; The newest state again: no change.
        (br_if $each (i32.and
          (i32.eq (i32.load8_u (i32.add (local.get $flags) (local.get $slot))) (i32.const 1))
          (i32.and
            (i32.eq (i32.load (i32.add (local.get $hashLow) (i32.shl (local.get $slot) (i32.const 2)))) (local.get $lo))
            (i32.eq (i32.load (i32.add (local.get $hashHigh) (i32.shl (local.get $slot) (i32.const 2)))) (local.get $hi)))))
        ;; The echo: an entry older than the new one with the same fingerprint (all the tile holds now
        ;; but, when the ring is full, the oldest, which the new entry replaces).
        (local.set $echo (i32.const 0))
        (local.set $step (i32.load8_u (i32.add (local.get $entries) (local.get $tile))))
        (if (i32.eq (local.get $step) (i32.const 12)) (then (local.set $step (i32.const 11))))
        (local.set $at (local.get $position))
        (block $echo_done
          (loop $each_older
            (br_if $echo_done (i32.eqz (local.get $step)))
            (local.set $older (i32.add (i32.mul (local.get $at) (local.get $tiles)) (local.get $tile)))
            (if (i32.and
                  (i32.eq (i32.load8_u (i32.add (local.get $flags) (local.get $older))) (i32.const 1))
                  (i32.and
                    (i32.eq (i32.load (i32.add (local.get $hashLow) (i32.shl (local.get $older) (i32.const 2)))) (local.get $lo))
                    (i32.eq (i32.load (i32.add (local.get $hashHigh) (i32.shl (local.get $older) (i32.const 2)))) (local.get $hi))))
              (then (local.set $echo (i32.const 1)) (br $echo_done)))
            (local.set $at (select (i32.const 11) (i32.sub (local.get $at) (i32.const 1)) (i32.eqz (local.get $at))))
            (local.set $step (i32.sub (local.get $step) (i32.const 1)))
            (br $each_older)))
        ;; The new entry.
        (local.set $position (i32.add (local.get $position) (i32.const 1)))
        (if (i32.eq (local.get $position) (i32.const 12)) (then (local.set $position (i32.const 0))))
        (i32.store8 (i32.add (local.get $newest) (local.get $tile)) (local.get $position))
        (local.set $step (i32.load8_u (i32.add (local.get $entries) (local.get $tile))))
        (if (i32.lt_u (local.get $step) (i32.const 12))
          (then (i32.store8 (i32.add (local.get $entries) (local.get $tile)) (i32.add (local.get $step) (i32.const 1)))))
        (local.set $slot (i32.add (i32.mul (local.get $position) (local.get $tiles)) (local.get $tile)))
        (f64.store (i32.add (local.get $history) (i32.shl (local.get $slot) (i32.const 3))) (local.get $writtenMs))
        (i32.store (i32.add (local.get $hashLow) (i32.shl (local.get $slot) (i32.const 2))) (local.get $lo))
        (i32.store (i32.add (local.get $hashHigh) (i32.shl (local.get $slot) (i32.const 2))) (local.get $hi))
        (i32.store8 (i32.add (local.get $flags) (local.get $slot)) (i32.const 1))
        (i32.store8 (i32.add (i32.add (local.get $entries) (i32.shl (local.get $tiles) (i32.const 1))) (local.get $tile)) (local.get $echo))
        (i32.store (i32.add (local.get $flushed) (i32.shl (local.get $changed) (i32.const 2))) (local.get $tile))
        (local.set $changed (i32.add (local.get $changed) (i32.const 1)))
        (br $each)))
    (i64.or (i64.shl (i64.extend_i32_u (local.get $leftOver)) (i64.const 32)) (i64.extend_i32_u (local.get $changed))))

  ;; ReplicaFramebuffer.classifyMany: for list[0..count) (i32 tiles), ORs into states[i] (u8) 1 when
  ;; the tile is changing (newest entry younger than settleMs), 2 when it may be cycling (newest entry
  ;; hashed, younger than halfWindowMs, and echoing an older entry: JavaScript decides), and raises latest[i] (f64) to the
  ;; newest entry's start.
  (func (export "classify_many")
    (param $history i32) (param $tiles i32) (param $list i32) (param $count i32) (param $nowMs f64) (param $halfWindowMs f64) (param $settleMs f64)
    (param $states i32) (param $latest i32)
    (local $index i32) (local $tile i32) (local $slot i32) (local $changedMs f64) (local $age f64) (local $at i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $index) (local.get $count)))
        (local.set $tile (i32.load (i32.add (local.get $list) (i32.shl (local.get $index) (i32.const 2)))))
        (local.set $slot (i32.add
          (i32.mul (i32.load8_u (i32.add (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 220))) (local.get $tile))) (local.get $tiles))
          (local.get $tile)))
        (local.set $changedMs (f64.load (i32.add (local.get $history) (i32.shl (local.get $slot) (i32.const 3)))))
        (local.set $at (i32.add (local.get $latest) (i32.shl (local.get $index) (i32.const 3))))
        (if (f64.gt (local.get $changedMs) (f64.load (local.get $at))) (then (f64.store (local.get $at) (local.get $changedMs))))
        (local.set $age (f64.sub (local.get $nowMs) (local.get $changedMs)))
        (local.set $at (i32.add (local.get $states) (local.get $index)))
        (if (i32.and
              (f64.lt (local.get $age) (local.get $halfWindowMs))
              (i32.and
                (i32.eq (i32.load8_u (i32.add (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 208))) (local.get $slot))) (i32.const 1))
                (i32.eq (i32.load8_u (i32.add (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 223))) (local.get $tile))) (i32.const 1))))
          (then (i32.store8 (local.get $at) (i32.or (i32.load8_u (local.get $at)) (i32.const 2))))
          (else
            (if (f64.lt (local.get $age) (local.get $settleMs))
              (then (i32.store8 (local.get $at) (i32.or (i32.load8_u (local.get $at)) (i32.const 1)))))))
        (local.set $index (i32.add (local.get $index) (i32.const 1)))
        (br $each))))

  ;; A tile's fingerprint (tile-pixels.ts's hashTile, the definition; this is its fast path): 16
  ;; lanes, the word in column c of every row mixed into lane c mod 16, each lane two multiplicative
  ;; chains (FNV-1a over words; multiply-add), then the lanes folded in order and avalanched. Here
  ;; the lanes are four vectors, one per 4-word chunk of a 16-word span: one load, two multiplies
  ;; per 4 words, four independent chains. Only for tiles without a mask whose width is a multiple
  ;; of 4. `scratch`: 128 bytes (the lanes, then the two halves of the result at scratch[0..8)).
  (func $hash_tile (export "hash_tile")
    (param $pixels i32) (param $stride i32) (param $left i32) (param $top i32) (param $width i32) (param $height i32)
    (param $seedLow i32) (param $seedHigh i32) (param $scratch i32)
    (local $row i32) (local $p i32) (local $c i32) (local $rowBytes i32) (local $w v128)
    (local $l0 v128) (local $l1 v128) (local $l2 v128) (local $l3 v128)
    (local $h0 v128) (local $h1 v128) (local $h2 v128) (local $h3 v128)
    (local $lo i32) (local $hi i32) (local $lane i32)
    (local.set $l0 (i32x4.splat (i32.xor (i32.xor (i32.const 0x811c9dc5) (local.get $width)) (local.get $seedLow))))
    (local.set $l1 (local.get $l0)) (local.set $l2 (local.get $l0)) (local.set $l3 (local.get $l0))
    (local.set $h0 (i32x4.splat (i32.xor (i32.xor (i32.const 0x9e3779b9) (i32.shl (local.get $height) (i32.const 16))) (local.get $seedHigh))))
    (local.set $h1 (local.get $h0)) (local.set $h2 (local.get $h0)) (local.set $h3 (local.get $h0))
    (local.set $rowBytes (i32.shl (local.get $width) (i32.const 2)))
    (local.set $p (i32.add (local.get $pixels) (i32.shl (i32.add (i32.mul (local.get $top) (local.get $stride)) (local.get $left)) (i32.const 2))))
    (block $rows_done
      (loop $each_row
        (br_if $rows_done (i32.ge_u (local.get $row) (local.get $height)))
        (local.set $c (i32.const 0))
        (block $row_done
          (loop $each_span
            ;; A whole 16-word span: one chunk into each vector.
            (if (i32.le_u (i32.add (local.get $c) (i32.const 64)) (local.get $rowBytes))
              (then
                (local.set $w (v128.load (i32.add (local.get $p) (local.get $c))))
                (local.set $l0 (i32x4.mul (v128.xor (local.get $l0) (local.get $w)) (v128.const i32x4 0x01000193 0x01000193 0x01000193 0x01000193)))
                (local.set $h0 (i32x4.mul (i32x4.add (local.get $h0) (local.get $w)) (v128.const i32x4 0x5bd1e995 0x5bd1e995 0x5bd1e995 0x5bd1e995)))
                (local.set $w (v128.load offset=16 (i32.add (local.get $p) (local.get $c))))
                (local.set $l1 (i32x4.mul (v128.xor (local.get $l1) (local.get $w)) (v128.const i32x4 0x01000193 0x01000193 0x01000193 0x01000193)))
                (local.set $h1 (i32x4.mul (i32x4.add (local.get $h1) (local.get $w)) (v128.const i32x4 0x5bd1e995 0x5bd1e995 0x5bd1e995 0x5bd1e995)))
                (local.set $w (v128.load offset=32 (i32.add (local.get $p) (local.get $c))))
                (local.set $l2 (i32x4.mul (v128.xor (local.get $l2) (local.get $w)) (v128.const i32x4 0x01000193 0x01000193 0x01000193 0x01000193)))
                (local.set $h2 (i32x4.mul (i32x4.add (local.get $h2) (local.get $w)) (v128.const i32x4 0x5bd1e995 0x5bd1e995 0x5bd1e995 0x5bd1e995)))
                (local.set $w (v128.load offset=48 (i32.add (local.get $p) (local.get $c))))
                (local.set $l3 (i32x4.mul (v128.xor (local.get $l3) (local.get $w)) (v128.const i32x4 0x01000193 0x01000193 0x01000193 0x01000193)))
                (local.set $h3 (i32x4.mul (i32x4.add (local.get $h3) (local.get $w)) (v128.const i32x4 0x5bd1e995 0x5bd1e995 0x5bd1e995 0x5bd1e995)))
                (local.set $c (i32.add (local.get $c) (i32.const 64)))
                (br $each_span)))
            ;; The row's last span, partial: one to three chunks, into the first vectors.
            (br_if $row_done (i32.ge_u (local.get $c) (local.get $rowBytes)))
            (local.set $w (v128.load (i32.add (local.get $p) (local.get $c))))
            (local.set $l0 (i32x4.mul (v128.xor (local.get $l0) (local.get $w)) (v128.const i32x4 0x01000193 0x01000193 0x01000193 0x01000193)))
            (local.set $h0 (i32x4.mul (i32x4.add (local.get $h0) (local.get $w)) (v128.const i32x4 0x5bd1e995 0x5bd1e995 0x5bd1e995 0x5bd1e995)))
            (br_if $row_done (i32.ge_u (i32.add (local.get $c) (i32.const 16)) (local.get $rowBytes)))
            (local.set $w (v128.load offset=16 (i32.add (local.get $p) (local.get $c))))
            (local.set $l1 (i32x4.mul (v128.xor (local.get $l1) (local.get $w)) (v128.const i32x4 0x01000193 0x01000193 0x01000193 0x01000193)))
            (local.set $h1 (i32x4.mul (i32x4.add (local.get $h1) (local.get $w)) (v128.const i32x4 0x5bd1e995 0x5bd1e995 0x5bd1e995 0x5bd1e995)))
            (br_if $row_done (i32.ge_u (i32.add (local.get $c) (i32.const 32)) (local.get $rowBytes)))
            (local.set $w (v128.load offset=32 (i32.add (local.get $p) (local.get $c))))
            (local.set $l2 (i32x4.mul (v128.xor (local.get $l2) (local.get $w)) (v128.const i32x4 0x01000193 0x01000193 0x01000193 0x01000193)))
            (local.set $h2 (i32x4.mul (i32x4.add (local.get $h2) (local.get $w)) (v128.const i32x4 0x5bd1e995 0x5bd1e995 0x5bd1e995 0x5bd1e995)))))
        (local.set $p (i32.add (local.get $p) (i32.shl (local.get $stride) (i32.const 2))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $each_row)))
    ;; The lanes in order (lane c mod 16: vector (c mod 16) / 4, its lane c mod 4), folded.
    (v128.store (local.get $scratch) (local.get $l0))
    (v128.store offset=16 (local.get $scratch) (local.get $l1))
    (v128.store offset=32 (local.get $scratch) (local.get $l2))
    (v128.store offset=48 (local.get $scratch) (local.get $l3))
    (v128.store offset=64 (local.get $scratch) (local.get $h0))
    (v128.store offset=80 (local.get $scratch) (local.get $h1))
    (v128.store offset=96 (local.get $scratch) (local.get $h2))
    (v128.store offset=112 (local.get $scratch) (local.get $h3))
    (local.set $lo (i32.const 0x811c9dc5))
    (local.set $hi (i32.const 0x9e3779b9))
    (local.set $lane (local.get $scratch))
    (local.set $c (i32.add (local.get $scratch) (i32.const 64)))
    (loop $fold
      (local.set $lo (i32.mul (i32.xor (local.get $lo) (i32.load (local.get $lane))) (i32.const 0x01000193)))
      (local.set $hi (i32.mul (i32.add (local.get $hi) (i32.load offset=64 (local.get $lane))) (i32.const 0x5bd1e995)))
      (local.set $lane (i32.add (local.get $lane) (i32.const 4)))
      (br_if $fold (i32.lt_u (local.get $lane) (local.get $c))))
    (local.set $lo (i32.xor (local.get $lo) (i32.shr_u (local.get $lo) (i32.const 16))))
    (local.set $lo (i32.mul (local.get $lo) (i32.const 0x85ebca6b)))
    (local.set $lo (i32.xor (local.get $lo) (i32.shr_u (local.get $lo) (i32.const 13))))
    (local.set $hi (i32.xor (local.get $hi) (i32.shr_u (local.get $hi) (i32.const 15))))
    (local.set $hi (i32.mul (local.get $hi) (i32.const 0xc2b2ae35)))
    (local.set $hi (i32.xor (local.get $hi) (i32.shr_u (local.get $hi) (i32.const 16))))
    (i32.store (local.get $scratch) (local.get $lo))
    (i32.store offset=4 (local.get $scratch) (local.get $hi)))

  ;; Which tiles a write changes. The rectangle (left, top, width, height) of the framebuffer at
  ;; `frame` (`stride` pixels per row, tiles of `tileSize` pixels, `columns` per row) is compared bit
  ;; for bit with the source at `source` (`sourceStride` pixels per row, its first pixel the
  ;; rectangle's top-left corner), one tile's part at a time; each tile where any pixel differs is
  ;; appended to `out` (i32 tile numbers, row by row) and the next tile is started at once. Each band
  ;; of tiles is first compared whole, row by row, and skipped when unchanged. Returns how many.
  ;; Nothing is copied: a repaint of identical pixels leaves the tile's history alone.
  (func (export "changed_tiles")
    (param $frame i32) (param $stride i32) (param $source i32) (param $sourceStride i32)
    (param $left i32) (param $top i32) (param $width i32) (param $height i32)
    (param $tileSize i32) (param $columns i32) (param $out i32) (result i32)
    (local $tileRow i32) (local $lastTileRow i32) (local $tileColumn i32) (local $firstTileColumn i32) (local $lastTileColumn i32)
    (local $y0 i32) (local $y1 i32) (local $x0 i32) (local $x1 i32) (local $y i32) (local $count i32)
    (local.set $tileRow (i32.div_u (local.get $top) (local.get $tileSize)))
    (local.set $lastTileRow (i32.div_u (i32.sub (i32.add (local.get $top) (local.get $height)) (i32.const 1)) (local.get $tileSize)))
    (local.set $firstTileColumn (i32.div_u (local.get $left) (local.get $tileSize)))
    (local.set $lastTileColumn (i32.div_u (i32.sub (i32.add (local.get $left) (local.get $width)) (i32.const 1)) (local.get $tileSize)))
    (if (i32.or (i32.eqz (local.get $width)) (i32.eqz (local.get $height))) (then (return (i32.const 0))))
    (block $rows_done
      (loop $each_tile_row
        (br_if $rows_done (i32.gt_u (local.get $tileRow) (local.get $lastTileRow)))
        ;; The rows of this tile row inside the rectangle: [y0, y1).
        (local.set $y0 (i32.mul (local.get $tileRow) (local.get $tileSize)))
        (if (i32.lt_u (local.get $y0) (local.get $top)) (then (local.set $y0 (local.get $top))))
        (local.set $y1 (i32.mul (i32.add (local.get $tileRow) (i32.const 1)) (local.get $tileSize)))
        (if (i32.gt_u (local.get $y1) (i32.add (local.get $top) (local.get $height))) (then (local.set $y1 (i32.add (local.get $top) (local.get $height)))))
        ;; The whole band first, a row at a time: a band a repaint left unchanged (the common case)
        ;; costs one read of each side, not one short compare per tile and row.
        (local.set $tileColumn (local.get $firstTileColumn))
        (local.set $y (local.get $y0))
        (block $band_differs
          (loop $each_band_row
            (br_if $band_differs
              (call $bytes_differ
                (i32.add (local.get $frame) (i32.shl (i32.add (i32.mul (local.get $y) (local.get $stride)) (local.get $left)) (i32.const 2)))
                (i32.add (local.get $source) (i32.shl (i32.mul (i32.sub (local.get $y) (local.get $top)) (local.get $sourceStride)) (i32.const 2)))
                (i32.shl (local.get $width) (i32.const 2))))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br_if $each_band_row (i32.lt_u (local.get $y) (local.get $y1))))
          ;; Every row of the band is unchanged: no tile of it is listed.
          (local.set $tileColumn (i32.add (local.get $lastTileColumn) (i32.const 1))))
        (block $columns_done
          (loop $each_tile
            (br_if $columns_done (i32.gt_u (local.get $tileColumn) (local.get $lastTileColumn)))
            (local.set $x0 (i32.mul (local.get $tileColumn) (local.get $tileSize)))
            (if (i32.lt_u (local.get $x0) (local.get $left)) (then (local.set $x0 (local.get $left))))
            (local.set $x1 (i32.mul (i32.add (local.get $tileColumn) (i32.const 1)) (local.get $tileSize)))
            (if (i32.gt_u (local.get $x1) (i32.add (local.get $left) (local.get $width))) (then (local.set $x1 (i32.add (local.get $left) (local.get $width)))))
            (local.set $y (local.get $y0))
            (block $tile_done
              (loop $each_row
                (br_if $tile_done (i32.ge_u (local.get $y) (local.get $y1)))
                (if (call $bytes_differ
                      (i32.add (local.get $frame) (i32.shl (i32.add (i32.mul (local.get $y) (local.get $stride)) (local.get $x0)) (i32.const 2)))
                      (i32.add (local.get $source)
                        (i32.shl
                          (i32.add (i32.mul (i32.sub (local.get $y) (local.get $top)) (local.get $sourceStride)) (i32.sub (local.get $x0) (local.get $left)))
                          (i32.const 2)))
                      (i32.shl (i32.sub (local.get $x1) (local.get $x0)) (i32.const 2)))
                  (then
                    (i32.store
                      (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2)))
                      (i32.add (i32.mul (local.get $tileRow) (local.get $columns)) (local.get $tileColumn)))
                    (local.set $count (i32.add (local.get $count) (i32.const 1)))
                    (br $tile_done)))
                (local.set $y (i32.add (local.get $y) (i32.const 1)))
                (br $each_row)))
            (local.set $tileColumn (i32.add (local.get $tileColumn) (i32.const 1)))
            (br $each_tile)))
        (local.set $tileRow (i32.add (local.get $tileRow) (i32.const 1)))
        (br $each_tile_row)))
    (local.get $count))

  ;; The copy that follows changed_tiles: for each tile of list[0..count) (i32 tile numbers, row by
  ;; row, as changed_tiles lists them), its part of the rectangle (left, top, width, height) is
  ;; copied from `source` (`sourceStride` pixels per row, its first pixel the rectangle's top-left
  ;; corner) into the framebuffer at `frame` (`stride` pixels per row, `widthPx` × `heightPx`, tiles
  ;; of `tileSize`, `columns` per row). One band of tiles at a time: when the band's listed tiles are
  ;; side by side, its rows are copied whole, in address order (a tile's 16 rows lie a framebuffer
  ;; row apart: read tile by tile from memory, a frame took nearly three times as long as a plain
  ;; copy); otherwise tile by tile. Then, with the band still in the cache, each tile the rectangle
  ;; covers whole, whose width is a multiple of 4 (hash_tile's chunks), whose change will be hot
  ;; when flushed (flush_cold's test: its newest entry is not the initial state and began less than
  ;; blinkMs before nowMs) and when `hashing` is not 0 (no masks), is fingerprinted (the engine's
  ;; seed; `scratch`: hash_tile's 128 bytes): the history's write fingerprint (writeLow, writeHigh)
  ;; and its time writeMs = nowMs, which flush_hot takes instead of reading the tile again. Any other
  ;; tile's writeMs becomes NaN: its flush fingerprints it.
  (func (export "copy_tiles")
    (param $frame i32) (param $stride i32) (param $source i32) (param $sourceStride i32)
    (param $left i32) (param $top i32) (param $width i32) (param $height i32)
    (param $tileSize i32) (param $columns i32) (param $widthPx i32) (param $heightPx i32)
    (param $list i32) (param $count i32) (param $history i32) (param $tiles i32)
    (param $nowMs f64) (param $blinkMs f64) (param $hashing i32) (param $seedLow i32) (param $seedHigh i32) (param $scratch i32)
    (local $index i32) (local $first i32) (local $end i32) (local $band i32) (local $tile i32)
    (local $tx i32) (local $ty i32) (local $tw i32) (local $th i32) (local $x0 i32) (local $x1 i32) (local $y0 i32) (local $y1 i32)
    (local $slot i32) (local $flags i32) (local $newest i32) (local $writeMs i32) (local $writeLow i32) (local $writeHigh i32)
    (local.set $flags (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 208))))
    (local.set $newest (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 220))))
    (local.set $writeMs (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 224))))
    (local.set $writeLow (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 232))))
    (local.set $writeHigh (i32.add (local.get $history) (i32.mul (local.get $tiles) (i32.const 236))))
    (block $done
      (loop $each_band
        (br_if $done (i32.ge_u (local.get $index) (local.get $count)))
        ;; The band's tiles: list[first..end).
        (local.set $first (local.get $index))
        (local.set $band (i32.div_u (i32.load (i32.add (local.get $list) (i32.shl (local.get $first) (i32.const 2)))) (local.get $columns)))
        (local.set $end (i32.add (local.get $first) (i32.const 1)))
        (block $band_found
          (loop $each_member
            (br_if $band_found (i32.ge_u (local.get $end) (local.get $count)))
            (br_if $band_found (i32.ne (i32.div_u (i32.load (i32.add (local.get $list) (i32.shl (local.get $end) (i32.const 2)))) (local.get $columns)) (local.get $band)))
            (local.set $end (i32.add (local.get $end) (i32.const 1)))
            (br $each_member)))
        (local.set $index (local.get $end))
        (local.set $ty (i32.mul (local.get $band) (local.get $tileSize)))
        (local.set $th (i32.sub (local.get $heightPx) (local.get $ty)))
        (if (i32.gt_s (local.get $th) (local.get $tileSize)) (then (local.set $th (local.get $tileSize))))
        (local.set $y0 (select (local.get $top) (local.get $ty) (i32.gt_u (local.get $top) (local.get $ty))))
        (local.set $y1 (i32.add (local.get $ty) (local.get $th)))
        (if (i32.gt_u (local.get $y1) (i32.add (local.get $top) (local.get $height))) (then (local.set $y1 (i32.add (local.get $top) (local.get $height)))))
        (if (i32.eq
              (i32.sub (i32.load (i32.add (local.get $list) (i32.shl (i32.sub (local.get $end) (i32.const 1)) (i32.const 2))))
                (i32.load (i32.add (local.get $list) (i32.shl (local.get $first) (i32.const 2)))))
              (i32.sub (i32.sub (local.get $end) (local.get $first)) (i32.const 1)))
          (then
            ;; Side by side: from the first tile's left part to the last one's right, row by row.
            (call $tile_span (local.get $columns) (local.get $tileSize) (local.get $widthPx) (local.get $left) (local.get $width)
              (i32.load (i32.add (local.get $list) (i32.shl (local.get $first) (i32.const 2)))))
            (local.set $x0 (global.get $span_x0))
            (call $tile_span (local.get $columns) (local.get $tileSize) (local.get $widthPx) (local.get $left) (local.get $width)
              (i32.load (i32.add (local.get $list) (i32.shl (i32.sub (local.get $end) (i32.const 1)) (i32.const 2)))))
            (call $copy_rows (local.get $frame) (local.get $stride) (local.get $source) (local.get $sourceStride) (local.get $left) (local.get $top)
              (local.get $x0) (global.get $span_x1) (local.get $y0) (local.get $y1)))
          (else
            (local.set $tile (local.get $first))
            (loop $each_tile
              (call $tile_span (local.get $columns) (local.get $tileSize) (local.get $widthPx) (local.get $left) (local.get $width)
                (i32.load (i32.add (local.get $list) (i32.shl (local.get $tile) (i32.const 2)))))
              (call $copy_rows (local.get $frame) (local.get $stride) (local.get $source) (local.get $sourceStride) (local.get $left) (local.get $top)
                (global.get $span_x0) (global.get $span_x1) (local.get $y0) (local.get $y1))
              (local.set $tile (i32.add (local.get $tile) (i32.const 1)))
              (br_if $each_tile (i32.lt_u (local.get $tile) (local.get $end))))))
        ;; The band's write fingerprints.
        (loop $each_hash
          (local.set $tile (i32.load (i32.add (local.get $list) (i32.shl (local.get $first) (i32.const 2)))))
          (local.set $first (i32.add (local.get $first) (i32.const 1)))
          (local.set $tx (i32.mul (i32.rem_u (local.get $tile) (local.get $columns)) (local.get $tileSize)))
          (local.set $tw (i32.sub (local.get $widthPx) (local.get $tx)))
          (if (i32.gt_s (local.get $tw) (local.get $tileSize)) (then (local.set $tw (local.get $tileSize))))
          (local.set $slot (i32.add
            (i32.mul (i32.load8_u (i32.add (local.get $newest) (local.get $tile))) (local.get $tiles))
            (local.get $tile)))
          ;; Covered whole: the rectangle holds the tile's columns [tx, tx + tw) and its rows [ty, ty + th).
          (if (i32.and
                (i32.and
                  (i32.and (local.get $hashing) (i32.eqz (i32.and (local.get $tw) (i32.const 3))))
                  (i32.and
                    (i32.and (i32.le_u (local.get $left) (local.get $tx)) (i32.ge_u (i32.add (local.get $left) (local.get $width)) (i32.add (local.get $tx) (local.get $tw))))
                    (i32.and (i32.eq (local.get $y0) (local.get $ty)) (i32.eq (local.get $y1) (i32.add (local.get $ty) (local.get $th))))))
                (i32.and
                  (i32.ne (i32.load8_u (i32.add (local.get $flags) (local.get $slot))) (i32.const 2))
                  (f64.lt (f64.sub (local.get $nowMs) (f64.load (i32.add (local.get $history) (i32.shl (local.get $slot) (i32.const 3))))) (local.get $blinkMs))))
            (then
              (call $hash_tile (local.get $frame) (local.get $stride) (local.get $tx) (local.get $ty) (local.get $tw) (local.get $th)
                (local.get $seedLow) (local.get $seedHigh) (local.get $scratch))
              (i32.store (i32.add (local.get $writeLow) (i32.shl (local.get $tile) (i32.const 2))) (i32.load (local.get $scratch)))
              (i32.store (i32.add (local.get $writeHigh) (i32.shl (local.get $tile) (i32.const 2))) (i32.load offset=4 (local.get $scratch)))
              (f64.store (i32.add (local.get $writeMs) (i32.shl (local.get $tile) (i32.const 3))) (local.get $nowMs)))
            (else (f64.store (i32.add (local.get $writeMs) (i32.shl (local.get $tile) (i32.const 3))) (f64.const nan))))
          (br_if $each_hash (i32.lt_u (local.get $first) (local.get $end))))
        (br $each_band))))

  ;; copy_tiles' helper: the columns [span_x0, span_x1) that the tile's column and the rectangle's
  ;; columns [left, left + width) share (the tile narrower at the framebuffer's right edge).
  (global $span_x0 (mut i32) (i32.const 0))
  (global $span_x1 (mut i32) (i32.const 0))
  (func $tile_span (param $columns i32) (param $tileSize i32) (param $widthPx i32) (param $left i32) (param $width i32) (param $tile i32)
    (local $tx i32) (local $x1 i32)
    (local.set $tx (i32.mul (i32.rem_u (local.get $tile) (local.get $columns)) (local.get $tileSize)))
    (global.set $span_x0 (select (local.get $left) (local.get $tx) (i32.gt_u (local.get $left) (local.get $tx))))
    (local.set $x1 (i32.add (local.get $tx) (local.get $tileSize)))
    (if (i32.gt_u (local.get $x1) (local.get $widthPx)) (then (local.set $x1 (local.get $widthPx))))
    (if (i32.gt_u (local.get $x1) (i32.add (local.get $left) (local.get $width))) (then (local.set $x1 (i32.add (local.get $left) (local.get $width)))))
    (global.set $span_x1 (local.get $x1)))

  ;; copy_tiles' helper: framebuffer rows [y0, y1), columns [x0, x1), copied from the source (its
  ;; first pixel the rectangle's (left, top)): 64 bytes at a time, then 16, then words.
  (func $copy_rows (param $frame i32) (param $stride i32) (param $source i32) (param $sourceStride i32) (param $left i32) (param $top i32)
    (param $x0 i32) (param $x1 i32) (param $y0 i32) (param $y1 i32)
    (local $src i32) (local $dst i32) (local $rowBytes i32) (local $c i32)
    (local.set $rowBytes (i32.shl (i32.sub (local.get $x1) (local.get $x0)) (i32.const 2)))
    (local.set $src (i32.add (local.get $source)
      (i32.shl (i32.add (i32.mul (i32.sub (local.get $y0) (local.get $top)) (local.get $sourceStride)) (i32.sub (local.get $x0) (local.get $left))) (i32.const 2))))
    (local.set $dst (i32.add (local.get $frame) (i32.shl (i32.add (i32.mul (local.get $y0) (local.get $stride)) (local.get $x0)) (i32.const 2))))
    (block $rows_done
      (loop $each_row
        (br_if $rows_done (i32.ge_u (local.get $y0) (local.get $y1)))
        (local.set $c (i32.const 0))
        (block $wide_done
          (loop $wide
            (br_if $wide_done (i32.gt_u (i32.add (local.get $c) (i32.const 64)) (local.get $rowBytes)))
            (v128.store (i32.add (local.get $dst) (local.get $c)) (v128.load (i32.add (local.get $src) (local.get $c))))
            (v128.store offset=16 (i32.add (local.get $dst) (local.get $c)) (v128.load offset=16 (i32.add (local.get $src) (local.get $c))))
            (v128.store offset=32 (i32.add (local.get $dst) (local.get $c)) (v128.load offset=32 (i32.add (local.get $src) (local.get $c))))
            (v128.store offset=48 (i32.add (local.get $dst) (local.get $c)) (v128.load offset=48 (i32.add (local.get $src) (local.get $c))))
            (local.set $c (i32.add (local.get $c) (i32.const 64)))
            (br $wide)))
        (block $narrow_done
          (loop $narrow
            (br_if $narrow_done (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $rowBytes)))
            (v128.store (i32.add (local.get $dst) (local.get $c)) (v128.load (i32.add (local.get $src) (local.get $c))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $narrow)))
        (block $words_done
          (loop $words
            (br_if $words_done (i32.ge_u (local.get $c) (local.get $rowBytes)))
            (i32.store (i32.add (local.get $dst) (local.get $c)) (i32.load (i32.add (local.get $src) (local.get $c))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $words)))
        (local.set $src (i32.add (local.get $src) (i32.shl (local.get $sourceStride) (i32.const 2))))
        (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $stride) (i32.const 2))))
        (local.set $y0 (i32.add (local.get $y0) (i32.const 1)))
        (br $each_row))))

  ;; 1 when the `bytes` bytes (a multiple of 4) at a and b differ anywhere: 64 bytes per step (one
  ;; branch), then 16, then 4.
  (func $bytes_differ (param $a i32) (param $b i32) (param $bytes i32) (result i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $a) (local.get $bytes)))
    (block $wide_done
      (loop $wide
        (br_if $wide_done (i32.gt_u (i32.add (local.get $a) (i32.const 64)) (local.get $end)))
        (if (v128.any_true
              (v128.or
                (v128.or
                  (v128.xor (v128.load (local.get $a)) (v128.load (local.get $b)))
                  (v128.xor (v128.load offset=16 (local.get $a)) (v128.load offset=16 (local.get $b))))
                (v128.or
                  (v128.xor (v128.load offset=32 (local.get $a)) (v128.load offset=32 (local.get $b)))
                  (v128.xor (v128.load offset=48 (local.get $a)) (v128.load offset=48 (local.get $b))))))
          (then (return (i32.const 1))))
        (local.set $a (i32.add (local.get $a) (i32.const 64)))
        (local.set $b (i32.add (local.get $b) (i32.const 64)))
        (br $wide)))
    (block $narrow_done
      (loop $narrow
        (br_if $narrow_done (i32.gt_u (i32.add (local.get $a) (i32.const 16)) (local.get $end)))
        (if (v128.any_true (v128.xor (v128.load (local.get $a)) (v128.load (local.get $b)))) (then (return (i32.const 1))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $narrow)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $a) (local.get $end)))
        (if (i32.ne (i32.load (local.get $a)) (i32.load (local.get $b))) (then (return (i32.const 1))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $b (i32.add (local.get $b) (i32.const 4)))
        (br $tail)))
    (i32.const 0))

  ;; The memory floor: XOR of every 32-bit word of [pointer, pointer + bytes) (bytes a multiple of
  ;; 4), 64 bytes per step in four independent accumulators: one read of each byte, nothing else.
  (func (export "xor_reduce") (param $pointer i32) (param $bytes i32) (result i32)
    (local $end i32) (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $word i32)
    (local.set $end (i32.add (local.get $pointer) (local.get $bytes)))
    (block $wide_done
      (loop $wide
        (br_if $wide_done (i32.gt_u (i32.add (local.get $pointer) (i32.const 64)) (local.get $end)))
        (local.set $a (v128.xor (local.get $a) (v128.load (local.get $pointer))))
        (local.set $b (v128.xor (local.get $b) (v128.load offset=16 (local.get $pointer))))
        (local.set $c (v128.xor (local.get $c) (v128.load offset=32 (local.get $pointer))))
        (local.set $d (v128.xor (local.get $d) (v128.load offset=48 (local.get $pointer))))
        (local.set $pointer (i32.add (local.get $pointer) (i32.const 64)))
        (br $wide)))
    (local.set $a (v128.xor (v128.xor (local.get $a) (local.get $b)) (v128.xor (local.get $c) (local.get $d))))
    (local.set $word
      (i32.xor
        (i32.xor (i32x4.extract_lane 0 (local.get $a)) (i32x4.extract_lane 1 (local.get $a)))
        (i32.xor (i32x4.extract_lane 2 (local.get $a)) (i32x4.extract_lane 3 (local.get $a)))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $pointer) (local.get $end)))
        (local.set $word (i32.xor (local.get $word) (i32.load (local.get $pointer))))
        (local.set $pointer (i32.add (local.get $pointer) (i32.const 4)))
        (br $tail)))
    (local.get $word))
)
