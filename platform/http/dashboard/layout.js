// @ts-check
/**
 * The dashboard's graph layout: a small spring-electrical simulation (every pair of members
 * repels, links pull, everything drifts to the middle) that keeps positions across updates,
 * so a join or a crash moves a few nodes rather than redrawing the grid; and the view that
 * maps it to the panel: centred, scaled to fit, turned so the picture's long axis lies along
 * the panel's, all eased so nothing jumps. Node sizes are in screen pixels and never scale.
 */

/**
 * @typedef {{ x: number, y: number, vx: number, vy: number }} Point
 * @typedef {{ a: number, b: number, confirmed: boolean }} Spring
 */

/** Rest length of a link, in layout units. */
const K = 70;
/** Below this the simulation stops. */
const COLD = 0.002;
/** Room around the picture, in pixels, for the labels under the nodes. */
const PAD = 40;

export class Layout {
  /** @type {Map<number, Point>} */
  positions = new Map();
  alpha = 0;
  view = { cx: 0, cy: 0, s: 1, rot: 0 };
  width = 600;
  height = 400;

  clear() {
    this.positions.clear();
    this.alpha = 0;
  }

  /** @param {number} id */
  get(id) {
    return this.positions.get(id);
  }

  /** Places a new node next to one of `around` already placed, else near the middle. @param {number} id @param {number[]} around */
  add(id, around) {
    for (const other of around) {
      const p = this.positions.get(other);
      if (p === undefined) continue;
      this.positions.set(id, { x: p.x + (Math.random() - 0.5) * 40, y: p.y + (Math.random() - 0.5) * 40, vx: 0, vy: 0 });
      return;
    }
    const r = 60 + Math.random() * 120;
    const a = Math.random() * Math.PI * 2;
    this.positions.set(id, { x: this.view.cx + Math.cos(a) * r, y: this.view.cy + Math.sin(a) * r, vx: 0, vy: 0 });
  }

  /** @param {number} id */
  remove(id) {
    this.positions.delete(id);
  }

  /** Warms the simulation up to at least `a` (0..1). @param {number} a */
  heat(a) {
    this.alpha = Math.max(this.alpha, a);
  }

  get moving() {
    return this.alpha > COLD;
  }

  /** One step. @param {readonly Spring[]} springs */
  step(springs) {
    if (!this.moving) return;
    const pts = [...this.positions.values()];
    for (let i = 0; i < pts.length; i++) {
      const p = /** @type {Point} */ (pts[i]);
      for (let j = i + 1; j < pts.length; j++) {
        const q = /** @type {Point} */ (pts[j]);
        let dx = p.x - q.x;
        let dy = p.y - q.y;
        let d2 = dx * dx + dy * dy;
        if (d2 < 0.01) {
          dx = Math.random() - 0.5;
          dy = Math.random() - 0.5;
          d2 = 0.25;
        }
        const f = ((K * K) / d2) * 0.05;
        p.vx += dx * f;
        p.vy += dy * f;
        q.vx -= dx * f;
        q.vy -= dy * f;
      }
    }
    for (const s of springs) {
      const p = this.positions.get(s.a);
      const q = this.positions.get(s.b);
      if (p === undefined || q === undefined) continue;
      const dx = q.x - p.x;
      const dy = q.y - p.y;
      const d = Math.sqrt(dx * dx + dy * dy) || 1;
      const f = (d - K) * (s.confirmed ? 0.06 : 0.02);
      p.vx += (dx / d) * f;
      p.vy += (dy / d) * f;
      q.vx -= (dx / d) * f;
      q.vy -= (dy / d) * f;
    }
    const max = 30 * this.alpha + 0.5;
    for (const p of pts) {
      p.vx -= p.x * 0.004;
      p.vy -= p.y * 0.004;
      const speed = Math.sqrt(p.vx * p.vx + p.vy * p.vy);
      if (speed > max) {
        p.vx *= max / speed;
        p.vy *= max / speed;
      }
      p.x += p.vx;
      p.y += p.vy;
      p.vx *= 0.6;
      p.vy *= 0.6;
    }
    this.alpha *= 0.985;
  }

  /** A layout point relative to the view's centre, turned by the view's angle. @param {Point} p */
  turned(p) {
    const c = Math.cos(this.view.rot);
    const s = Math.sin(this.view.rot);
    const dx = p.x - this.view.cx;
    const dy = p.y - this.view.cy;
    return { x: dx * c - dy * s, y: dx * s + dy * c };
  }

  /** Where a layout point is drawn, in panel pixels. @param {Point} p */
  screen(p) {
    const r = this.turned(p);
    return { x: (this.width / 2 + r.x * this.view.s).toFixed(1), y: (this.height / 2 + r.y * this.view.s).toFixed(1) };
  }

  /** Eases the view toward one that fits every node in a `w` x `h` panel. @param {number} w @param {number} h */
  fit(w, h) {
    this.width = w;
    this.height = h;
    const n = this.positions.size;
    if (n === 0) return;
    const ease = 0.3;
    let mx = 0;
    let my = 0;
    for (const p of this.positions.values()) {
      mx += p.x / n;
      my += p.y / n;
    }
    // The principal axis of the points (from their covariance) goes along the panel's longer side.
    let sxx = 0;
    let syy = 0;
    let sxy = 0;
    for (const p of this.positions.values()) {
      sxx += (p.x - mx) ** 2;
      syy += (p.y - my) ** 2;
      sxy += (p.x - mx) * (p.y - my);
    }
    const want = -0.5 * Math.atan2(2 * sxy, sxx - syy) + (h > w ? Math.PI / 2 : 0);
    // An axis has no direction: turn the short way (modulo half a turn), and not for a wobble.
    const diff = ((((want - this.view.rot) % Math.PI) + 1.5 * Math.PI) % Math.PI) - Math.PI / 2;
    if (Math.abs(diff) > 0.15 && sxx + syy > 0) this.view.rot += diff * 0.05;
    this.view.cx += (mx - this.view.cx) * ease;
    this.view.cy += (my - this.view.cy) * ease;
    let ex = 1;
    let ey = 1;
    for (const p of this.positions.values()) {
      const r = this.turned(p);
      ex = Math.max(ex, Math.abs(r.x));
      ey = Math.max(ey, Math.abs(r.y));
    }
    const s = Math.min(1.5, (w / 2 - PAD) / ex, (h / 2 - PAD) / ey);
    this.view.s += (s - this.view.s) * ease;
  }
}
