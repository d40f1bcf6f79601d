"""Triton kernels of the fused TV-L1 solver: one program solves whole (H, W) planes, all iterations on chip.

Imported only through :mod:`repflow.flow_fused` (which documents the design and wraps these kernels in an
autograd function). Both kernels compute exactly the operations of ``TVL1Flow``'s plain path, in float32:

* image gradients of F2 with the channel's 3-tap kernels over linear-extrapolation padding;
* per iteration: rho = rho_c + gx*u1 + gy*u2, step = clamp(-rho/|grad|^2, -l_t, l_t), u = u + step*grad,
  u += theta*div(p) (backward difference, p[-1] = 0), p = (p + taut*grad u) / (1 + taut*|grad u|)
  (forward difference, zero in the last column/row).

A program keeps a plane's state in registers; neighbours are exchanged through the program's own slice of a
global scratch buffer (it stays in L1/L2): store, ``tl.debug_barrier()``, load shifted with masks. Every
scratch area is rewritten only after a later barrier that all of its readers have passed. Programs loop over
planes (``plane = pid, pid + programs, ...``), so the scratch is sized by the grid, not by the batch.

Per channel, ``taps`` holds 14 values: image-gradient x (3), y (3), flow-gradient x (2), y (2), and the
divergence x (2), y (2) already multiplied by theta; ``scalars`` holds (l_t, taut).
"""

from __future__ import annotations

import triton
import triton.language as tl

N_TAPS = tl.constexpr(14)
# Per-plane partial gradients written by the backward kernel: the 14 taps, then l_t and taut.
N_PARTIALS = tl.constexpr(16)
# Maps in one state slot of the scratch: u1, u2, p1x, p2x, p1y, p2y.
SLOT_MAPS = tl.constexpr(6)


@triton.jit
def _neighbours(ptr, offs, step, before, after, is_first, is_last, inside):
    """(previous, centre, next) samples of a plane along one axis (``step`` = 1 for x, W for y), with the
    linear extrapolation 2*edge - neighbour beyond the first and last index."""
    centre = tl.load(ptr + offs, mask=inside, other=0.0).to(tl.float32)
    prev = tl.load(ptr + offs - step, mask=before, other=0.0).to(tl.float32)
    nxt = tl.load(ptr + offs + step, mask=after, other=0.0).to(tl.float32)
    prev = tl.where(is_first, 2 * centre - nxt, prev)
    nxt = tl.where(is_last, 2 * centre - prev, nxt)
    return prev, centre, nxt


@triton.jit
def _image_terms(f1_ptr, f2_ptr, taps_ptr, i, j, H, W, eps):
    """gx, gy, -1/|grad|^2 and rho_c = F2 - F1 of one plane (zero outside it)."""
    inside = (i < H) & (j < W)
    offs = i * W + j
    left, centre, right = _neighbours(f2_ptr, offs, 1, inside & (j >= 1), inside & (j < W - 1),
                                      j == 0, j == W - 1, inside)
    up, _, down = _neighbours(f2_ptr, offs, W, inside & (i >= 1), inside & (i < H - 1), i == 0, i == H - 1, inside)
    gx = tl.load(taps_ptr) * left + tl.load(taps_ptr + 1) * centre + tl.load(taps_ptr + 2) * right
    gy = tl.load(taps_ptr + 3) * up + tl.load(taps_ptr + 4) * centre + tl.load(taps_ptr + 5) * down
    gx = tl.where(inside, gx, 0.0)
    gy = tl.where(inside, gy, 0.0)
    neg_inv_grad_sq = tl.where(inside, tl.div_rn(-1.0, eps + gx * gx + gy * gy), 0.0)
    rho_c = centre - tl.load(f1_ptr + offs, mask=inside, other=0.0).to(tl.float32)
    return gx, gy, neg_inv_grad_sq, rho_c


@triton.jit
def _iteration(u1, u2, p1x, p2x, p1y, p2y, gx, gy, nig, rho_c, l_t, taut, taps_ptr, p_area, u_area,
               offs, has_left, has_up, has_right, has_down, eps, BW: tl.constexpr, BLOCK: tl.constexpr):
    """One TV-L1 iteration. p (in) is exchanged through ``p_area`` (4 maps), u (out) through ``u_area`` (2)."""
    step = tl.minimum(tl.maximum((rho_c + gx * u1 + gy * u2) * nig, -l_t), l_t)
    tl.store(p_area + offs, p1x)
    tl.store(p_area + BLOCK + offs, p2x)
    tl.store(p_area + 2 * BLOCK + offs, p1y)
    tl.store(p_area + 3 * BLOCK + offs, p2y)
    tl.debug_barrier()
    dxa = tl.load(taps_ptr + 10)
    dxb = tl.load(taps_ptr + 11)
    dya = tl.load(taps_ptr + 12)
    dyb = tl.load(taps_ptr + 13)
    p1x_left = tl.load(p_area + offs - 1, mask=has_left, other=0.0)
    p2x_left = tl.load(p_area + BLOCK + offs - 1, mask=has_left, other=0.0)
    p1y_up = tl.load(p_area + 2 * BLOCK + offs - BW, mask=has_up, other=0.0)
    p2y_up = tl.load(p_area + 3 * BLOCK + offs - BW, mask=has_up, other=0.0)
    u1 = u1 + step * gx + dxb * p1x + dxa * p1x_left + dyb * p1y + dya * p1y_up
    u2 = u2 + step * gy + dxb * p2x + dxa * p2x_left + dyb * p2y + dya * p2y_up

    tl.store(u_area + offs, u1)
    tl.store(u_area + BLOCK + offs, u2)
    tl.debug_barrier()
    u1x, u1y, u2x, u2y = _flow_gradients(u1, u2, taps_ptr, u_area, offs, has_right, has_down, BW, BLOCK)
    norm1 = 1.0 + taut * tl.sqrt_rn(eps + u1x * u1x + u1y * u1y)
    norm2 = 1.0 + taut * tl.sqrt_rn(eps + u2x * u2x + u2y * u2y)
    p1x = tl.div_rn(p1x + taut * u1x, norm1)
    p1y = tl.div_rn(p1y + taut * u1y, norm1)
    p2x = tl.div_rn(p2x + taut * u2x, norm2)
    p2y = tl.div_rn(p2y + taut * u2y, norm2)
    return u1, u2, p1x, p2x, p1y, p2y


@triton.jit
def _flow_gradients(u1, u2, taps_ptr, u_area, offs, has_right, has_down, BW: tl.constexpr, BLOCK: tl.constexpr):
    """Forward differences of u (already stored in ``u_area``), zero in the last column / row."""
    fxa = tl.load(taps_ptr + 6)
    fxb = tl.load(taps_ptr + 7)
    fya = tl.load(taps_ptr + 8)
    fyb = tl.load(taps_ptr + 9)
    u1x = tl.where(has_right, fxa * u1 + fxb * tl.load(u_area + offs + 1, mask=has_right, other=0.0), 0.0)
    u2x = tl.where(has_right, fxa * u2 + fxb * tl.load(u_area + BLOCK + offs + 1, mask=has_right, other=0.0), 0.0)
    u1y = tl.where(has_down, fya * u1 + fyb * tl.load(u_area + offs + BW, mask=has_down, other=0.0), 0.0)
    u2y = tl.where(has_down, fya * u2 + fyb * tl.load(u_area + BLOCK + offs + BW, mask=has_down, other=0.0), 0.0)
    return u1x, u1y, u2x, u2y


@triton.jit
def _masks(H, W, BH: tl.constexpr, BW: tl.constexpr):
    i = tl.arange(0, BH)[:, None]
    j = tl.arange(0, BW)[None, :]
    inside = (i < H) & (j < W)
    return i, j, i * BW + j, inside, inside & (j >= 1), inside & (i >= 1), inside & (j < W - 1), inside & (i < H - 1)


@triton.jit
def tvl1_forward_kernel(f1_ptr, f2_ptr, taps_ptr, scalars_ptr, u1_ptr, u2_ptr, scratch_ptr,
                        n_planes, C, H, W, n_iter, eps, BH: tl.constexpr, BW: tl.constexpr):
    """Flow (u1, u2) of every (n, c) plane; ``scratch`` holds SLOT_MAPS maps of BH*BW floats per program."""
    BLOCK: tl.constexpr = BH * BW
    pid = tl.program_id(0)
    i, j, offs, inside, has_left, has_up, has_right, has_down = _masks(H, W, BH, BW)
    area = scratch_ptr + pid.to(tl.int64) * (SLOT_MAPS * BLOCK)
    l_t = tl.load(scalars_ptr)
    taut = tl.load(scalars_ptr + 1)
    for plane in tl.range(pid, n_planes, tl.num_programs(0), num_stages=1):
        taps = taps_ptr + (plane % C) * N_TAPS
        base = tl.cast(plane, tl.int64) * H * W
        gx, gy, nig, rho_c = _image_terms(f1_ptr + base, f2_ptr + base, taps, i, j, H, W, eps)
        u1 = tl.zeros([BH, BW], tl.float32)
        u2 = tl.zeros([BH, BW], tl.float32)
        p1x = tl.zeros([BH, BW], tl.float32)
        p2x = tl.zeros([BH, BW], tl.float32)
        p1y = tl.zeros([BH, BW], tl.float32)
        p2y = tl.zeros([BH, BW], tl.float32)
        for _ in tl.range(n_iter, num_stages=1):
            u1, u2, p1x, p2x, p1y, p2y = _iteration(
                u1, u2, p1x, p2x, p1y, p2y, gx, gy, nig, rho_c, l_t, taut, taps, area + 2 * BLOCK, area,
                offs, has_left, has_up, has_right, has_down, eps, BW, BLOCK)
        plane_offs = base + i * W + j
        tl.store(u1_ptr + plane_offs, u1.to(u1_ptr.dtype.element_ty), mask=inside)
        tl.store(u2_ptr + plane_offs, u2.to(u2_ptr.dtype.element_ty), mask=inside)


@triton.jit
def tvl1_backward_kernel(f1_ptr, f2_ptr, taps_ptr, scalars_ptr, gu1_ptr, gu2_ptr, gf1_ptr, gf2_ptr, partials_ptr,
                         scratch_ptr, n_planes, C, H, W, n_iter, eps, BH: tl.constexpr, BW: tl.constexpr):
    """Gradients w.r.t. F1, F2 and per-plane partial gradients of the taps, l_t and taut.

    Per plane: the forward iterations are recomputed with every iteration's state kept in the program's
    scratch (``n_iter + 1`` slots of SLOT_MAPS maps, then SLOT_MAPS maps for exchanges), then reverse mode
    runs through the iterations from the last to the first.
    """
    BLOCK: tl.constexpr = BH * BW
    SLOT: tl.constexpr = SLOT_MAPS * BLOCK
    pid = tl.program_id(0)
    i, j, offs, inside, has_left, has_up, has_right, has_down = _masks(H, W, BH, BW)
    states = scratch_ptr + pid.to(tl.int64) * ((n_iter + 2) * SLOT)
    g_area = states + (n_iter + 1) * SLOT  # 4 maps: adjoints of the flow gradients
    ub_area = g_area + 4 * BLOCK  # 2 maps: adjoints of u
    l_t = tl.load(scalars_ptr)
    taut = tl.load(scalars_ptr + 1)
    for plane in tl.range(pid, n_planes, tl.num_programs(0), num_stages=1):
        c = plane % C
        taps = taps_ptr + c * N_TAPS
        base = tl.cast(plane, tl.int64) * H * W
        gx, gy, nig, rho_c = _image_terms(f1_ptr + base, f2_ptr + base, taps, i, j, H, W, eps)

        # Forward again, keeping state t (u_t, p_t) in slot t.
        u1 = tl.zeros([BH, BW], tl.float32)
        u2 = tl.zeros([BH, BW], tl.float32)
        p1x = tl.zeros([BH, BW], tl.float32)
        p2x = tl.zeros([BH, BW], tl.float32)
        p1y = tl.zeros([BH, BW], tl.float32)
        p2y = tl.zeros([BH, BW], tl.float32)
        tl.store(states + offs, u1)
        tl.store(states + BLOCK + offs, u2)
        for t in tl.range(n_iter, num_stages=1):
            slot = states + t * SLOT
            u1, u2, p1x, p2x, p1y, p2y = _iteration(
                u1, u2, p1x, p2x, p1y, p2y, gx, gy, nig, rho_c, l_t, taut, taps, slot + 2 * BLOCK, slot + SLOT,
                offs, has_left, has_up, has_right, has_down, eps, BW, BLOCK)
        last = states + n_iter * SLOT
        tl.store(last + 2 * BLOCK + offs, p1x)
        tl.store(last + 3 * BLOCK + offs, p2x)
        tl.store(last + 4 * BLOCK + offs, p1y)
        tl.store(last + 5 * BLOCK + offs, p2y)
        tl.debug_barrier()

        # Reverse mode. ub*: adjoint of u_{t+1}; pb*: adjoint of p_{t+1}; *_bar: adjoints of the image terms.
        plane_offs = base + i * W + j
        ub1 = tl.load(gu1_ptr + plane_offs, mask=inside, other=0.0).to(tl.float32)
        ub2 = tl.load(gu2_ptr + plane_offs, mask=inside, other=0.0).to(tl.float32)
        pb1x = tl.zeros([BH, BW], tl.float32)
        pb2x = tl.zeros([BH, BW], tl.float32)
        pb1y = tl.zeros([BH, BW], tl.float32)
        pb2y = tl.zeros([BH, BW], tl.float32)
        gx_bar = tl.zeros([BH, BW], tl.float32)
        gy_bar = tl.zeros([BH, BW], tl.float32)
        nig_bar = tl.zeros([BH, BW], tl.float32)
        rho_c_bar = tl.zeros([BH, BW], tl.float32)
        # Per-pixel sums of the parameters' gradient terms, reduced once per plane (a reduction in every iteration
        # would cost two barriers each).
        g_fxa = tl.zeros([BH, BW], tl.float32)
        g_fxb = tl.zeros([BH, BW], tl.float32)
        g_fya = tl.zeros([BH, BW], tl.float32)
        g_fyb = tl.zeros([BH, BW], tl.float32)
        g_dxa = tl.zeros([BH, BW], tl.float32)
        g_dxb = tl.zeros([BH, BW], tl.float32)
        g_dya = tl.zeros([BH, BW], tl.float32)
        g_dyb = tl.zeros([BH, BW], tl.float32)
        g_lt = tl.zeros([BH, BW], tl.float32)
        g_taut = tl.zeros([BH, BW], tl.float32)
        fxa = tl.load(taps + 6)
        fxb = tl.load(taps + 7)
        fya = tl.load(taps + 8)
        fyb = tl.load(taps + 9)
        dxa = tl.load(taps + 10)
        dxb = tl.load(taps + 11)
        dya = tl.load(taps + 12)
        dyb = tl.load(taps + 13)
        for k in tl.range(n_iter, num_stages=1):
            slot = states + (n_iter - 1 - k) * SLOT
            after = slot + SLOT
            u1_t = tl.load(slot + offs)
            u2_t = tl.load(slot + BLOCK + offs)
            p1x_t = tl.load(slot + 2 * BLOCK + offs)
            p2x_t = tl.load(slot + 3 * BLOCK + offs)
            p1y_t = tl.load(slot + 4 * BLOCK + offs)
            p2y_t = tl.load(slot + 5 * BLOCK + offs)
            p1x_left = tl.load(slot + 2 * BLOCK + offs - 1, mask=has_left, other=0.0)
            p2x_left = tl.load(slot + 3 * BLOCK + offs - 1, mask=has_left, other=0.0)
            p1y_up = tl.load(slot + 4 * BLOCK + offs - BW, mask=has_up, other=0.0)
            p2y_up = tl.load(slot + 5 * BLOCK + offs - BW, mask=has_up, other=0.0)
            u1_o = tl.load(after + offs)
            u2_o = tl.load(after + BLOCK + offs)
            u1_right = tl.load(after + offs + 1, mask=has_right, other=0.0)
            u2_right = tl.load(after + BLOCK + offs + 1, mask=has_right, other=0.0)
            u1_down = tl.load(after + offs + BW, mask=has_down, other=0.0)
            u2_down = tl.load(after + BLOCK + offs + BW, mask=has_down, other=0.0)
            p1x_o = tl.load(after + 2 * BLOCK + offs)
            p2x_o = tl.load(after + 3 * BLOCK + offs)
            p1y_o = tl.load(after + 4 * BLOCK + offs)
            p2y_o = tl.load(after + 5 * BLOCK + offs)

            # Recompute this iteration's intermediates.
            rho = rho_c + gx * u1_t + gy * u2_t
            z = rho * nig
            step = tl.minimum(tl.maximum(z, -l_t), l_t)
            u1x = tl.where(has_right, fxa * u1_o + fxb * u1_right, 0.0)
            u2x = tl.where(has_right, fxa * u2_o + fxb * u2_right, 0.0)
            u1y = tl.where(has_down, fya * u1_o + fyb * u1_down, 0.0)
            u2y = tl.where(has_down, fya * u2_o + fyb * u2_down, 0.0)
            sq1 = tl.sqrt_rn(eps + u1x * u1x + u1y * u1y)
            sq2 = tl.sqrt_rn(eps + u2x * u2x + u2y * u2y)
            norm1 = 1.0 + taut * sq1
            norm2 = 1.0 + taut * sq2

            # p_{t+1} = (p_t + taut * grad u_{t+1}) / norm
            a1x = tl.div_rn(pb1x, norm1)
            a1y = tl.div_rn(pb1y, norm1)
            a2x = tl.div_rn(pb2x, norm2)
            a2y = tl.div_rn(pb2y, norm2)
            norm1_bar = -(a1x * p1x_o + a1y * p1y_o)
            norm2_bar = -(a2x * p2x_o + a2y * p2y_o)
            g_taut += a1x * u1x + a1y * u1y + norm1_bar * sq1 + a2x * u2x + a2y * u2y + norm2_bar * sq2
            sq1_bar = tl.div_rn(norm1_bar * taut, sq1)
            sq2_bar = tl.div_rn(norm2_bar * taut, sq2)
            g1x = tl.where(has_right, a1x * taut + sq1_bar * u1x, 0.0)
            g2x = tl.where(has_right, a2x * taut + sq2_bar * u2x, 0.0)
            g1y = tl.where(has_down, a1y * taut + sq1_bar * u1y, 0.0)
            g2y = tl.where(has_down, a2y * taut + sq2_bar * u2y, 0.0)
            g_fxa += g1x * u1_o + g2x * u2_o
            g_fxb += g1x * u1_right + g2x * u2_right
            g_fya += g1y * u1_o + g2y * u2_o
            g_fyb += g1y * u1_down + g2y * u2_down
            # Adjoint of the forward differences: a backward difference (exchange through g_area).
            tl.store(g_area + offs, g1x)
            tl.store(g_area + BLOCK + offs, g2x)
            tl.store(g_area + 2 * BLOCK + offs, g1y)
            tl.store(g_area + 3 * BLOCK + offs, g2y)
            tl.debug_barrier()
            ub1 += fxa * g1x + fxb * tl.load(g_area + offs - 1, mask=has_left, other=0.0)
            ub2 += fxa * g2x + fxb * tl.load(g_area + BLOCK + offs - 1, mask=has_left, other=0.0)
            ub1 += fya * g1y + fyb * tl.load(g_area + 2 * BLOCK + offs - BW, mask=has_up, other=0.0)
            ub2 += fya * g2y + fyb * tl.load(g_area + 3 * BLOCK + offs - BW, mask=has_up, other=0.0)

            # u_{t+1} = v + theta * div(p_t): the divergence's adjoint is a forward difference (exchange
            # through ub_area).
            g_dxb += ub1 * p1x_t + ub2 * p2x_t
            g_dxa += ub1 * p1x_left + ub2 * p2x_left
            g_dyb += ub1 * p1y_t + ub2 * p2y_t
            g_dya += ub1 * p1y_up + ub2 * p2y_up
            tl.store(ub_area + offs, ub1)
            tl.store(ub_area + BLOCK + offs, ub2)
            tl.debug_barrier()
            pb1x = a1x + dxb * ub1 + dxa * tl.load(ub_area + offs + 1, mask=has_right, other=0.0)
            pb2x = a2x + dxb * ub2 + dxa * tl.load(ub_area + BLOCK + offs + 1, mask=has_right, other=0.0)
            pb1y = a1y + dyb * ub1 + dya * tl.load(ub_area + offs + BW, mask=has_down, other=0.0)
            pb2y = a2y + dyb * ub2 + dya * tl.load(ub_area + BLOCK + offs + BW, mask=has_down, other=0.0)

            # v = u_t + step * grad, step = clamp(rho * nig, -l_t, l_t), rho = rho_c + gx*u1_t + gy*u2_t
            step_bar = ub1 * gx + ub2 * gy
            gx_bar += ub1 * step
            gy_bar += ub2 * step
            g_lt += tl.where(z > l_t, step_bar, 0.0) - tl.where(z < -l_t, step_bar, 0.0)
            z_bar = tl.where((z >= -l_t) & (z <= l_t), step_bar, 0.0)
            rho_bar = z_bar * nig
            nig_bar += z_bar * rho
            rho_c_bar += rho_bar
            gx_bar += rho_bar * u1_t
            gy_bar += rho_bar * u2_t
            ub1 += rho_bar * gx
            ub2 += rho_bar * gy

        # nig = -1 / (eps + gx^2 + gy^2)
        grad_sq_bar = nig_bar * nig * nig
        gx_bar += 2 * grad_sq_bar * gx
        gy_bar += 2 * grad_sq_bar * gy
        # The image gradients' adjoint (exchange through g_area, last read before the previous barrier).
        tl.store(g_area + offs, gx_bar)
        tl.store(g_area + BLOCK + offs, gy_bar)
        tl.debug_barrier()
        gx_bar_left = tl.load(g_area + offs - 1, mask=has_left, other=0.0)
        gx_bar_right = tl.load(g_area + offs + 1, mask=has_right, other=0.0)
        gy_bar_up = tl.load(g_area + BLOCK + offs - BW, mask=has_up, other=0.0)
        gy_bar_down = tl.load(g_area + BLOCK + offs + BW, mask=has_down, other=0.0)
        f2 = f2_ptr + base
        in_offs = i * W + j
        left, centre, right = _neighbours(f2, in_offs, 1, has_left, has_right, j == 0, j == W - 1, inside)
        up, _, down = _neighbours(f2, in_offs, W, has_up, has_down, i == 0, i == H - 1, inside)
        ix0 = tl.load(taps)
        ix1 = tl.load(taps + 1)
        ix2 = tl.load(taps + 2)
        iy0 = tl.load(taps + 3)
        iy1 = tl.load(taps + 4)
        iy2 = tl.load(taps + 5)
        # gx[j] = ix0*f[j-1] + ix1*f[j] + ix2*f[j+1], with f[-1] = 2f[0] - f[1] and f[W] = 2f[W-1] - f[W-2].
        f2_bar = rho_c_bar + ix1 * gx_bar + ix2 * gx_bar_left + ix0 * gx_bar_right
        f2_bar += tl.where(j == 0, 2 * ix0 * gx_bar, 0.0) - tl.where(j == 1, ix0 * gx_bar_left, 0.0)
        f2_bar += tl.where(j == W - 1, 2 * ix2 * gx_bar, 0.0) - tl.where(j == W - 2, ix2 * gx_bar_right, 0.0)
        f2_bar += iy1 * gy_bar + iy2 * gy_bar_up + iy0 * gy_bar_down
        f2_bar += tl.where(i == 0, 2 * iy0 * gy_bar, 0.0) - tl.where(i == 1, iy0 * gy_bar_up, 0.0)
        f2_bar += tl.where(i == H - 1, 2 * iy2 * gy_bar, 0.0) - tl.where(i == H - 2, iy2 * gy_bar_down, 0.0)
        tl.store(gf1_ptr + plane_offs, (-rho_c_bar).to(gf1_ptr.dtype.element_ty), mask=inside)
        tl.store(gf2_ptr + plane_offs, f2_bar.to(gf2_ptr.dtype.element_ty), mask=inside)

        out = partials_ptr + tl.cast(plane, tl.int64) * N_PARTIALS
        tl.store(out, tl.sum(tl.where(inside, gx_bar * left, 0.0)))
        tl.store(out + 1, tl.sum(tl.where(inside, gx_bar * centre, 0.0)))
        tl.store(out + 2, tl.sum(tl.where(inside, gx_bar * right, 0.0)))
        tl.store(out + 3, tl.sum(tl.where(inside, gy_bar * up, 0.0)))
        tl.store(out + 4, tl.sum(tl.where(inside, gy_bar * centre, 0.0)))
        tl.store(out + 5, tl.sum(tl.where(inside, gy_bar * down, 0.0)))
        tl.store(out + 6, tl.sum(g_fxa))
        tl.store(out + 7, tl.sum(g_fxb))
        tl.store(out + 8, tl.sum(g_fya))
        tl.store(out + 9, tl.sum(g_fyb))
        tl.store(out + 10, tl.sum(g_dxa))
        tl.store(out + 11, tl.sum(g_dxb))
        tl.store(out + 12, tl.sum(g_dya))
        tl.store(out + 13, tl.sum(g_dyb))
        tl.store(out + 14, tl.sum(g_lt))
        tl.store(out + 15, tl.sum(g_taut))
        # The next plane's first writes to g_area must wait for this plane's reads of it.
        tl.debug_barrier()
