// Package gctune keeps Go's garbage collector from running hundreds of
// times a second on a server whose live heap is small.
//
// With GOGC=100 the collector starts a cycle when the heap has grown by as
// much as it held live after the last one, and never later than at 4 MB.
// A server that keeps 2-3 MB live and allocates a few KB per request (most
// of it net/http's own) then collects 50 times a second under load, and
// marking the live heap each time cost about a fifth of its CPU per
// request in our measurements. The Tuner gives the heap a fixed headroom
// instead while the process allocates fast: the next cycle starts when
// Headroom bytes more than the live heap are in use, or at the GOGC=100
// goal when that is higher (a large live heap, such as a million loaded
// revocations, keeps the usual proportional goal). When allocation slows
// down, the headroom is given back: GOGC returns to 100 and the memory
// held for it is returned to the operating system, so an idle server
// stays small.
//
// The Tuner only ever raises the goal above GOGC=100's: it changes nothing
// when GOGC is set in the environment (the operator has chosen), and the
// memory limit (GOMEMLIMIT) still bounds the heap.
package gctune

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// base is the GOGC the Tuner never goes below, Go's default.
const base = 100

// maxPercent bounds the GOGC the Tuner sets, so that a tiny live heap
// cannot turn into an unbounded goal.
const maxPercent = 10_000

// Options configure a Tuner.
type Options struct {
	// Headroom is how far above the live heap the next collection may
	// start while the process allocates fast (bytes; 0 disables the
	// tuner).
	Headroom uint64
	// Every is how often the allocation rate is read (default 1 s).
	Every time.Duration
}

// Tuner adjusts GOGC after every collection; see the package
// documentation.
type Tuner struct {
	headroom uint64
	every    time.Duration

	mu      sync.Mutex
	active  bool // the headroom is applied
	percent int  // the GOGC set last
	stopped bool // Start's context is done: stop re-arming
	cycles  int  // collections seen by afterGC
	samples [3]metrics.Sample
}

// Active reports whether the headroom is applied now (the process was
// allocating fast at the last reading), and the GOGC in effect.
func (t *Tuner) Active() (bool, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.active, t.percent
}

// running is set while a Tuner runs: GOGC is the process's, so one tunes
// it at a time (tests start several servers in one process).
var running atomic.Bool

// Start runs a Tuner until ctx is done, when GOGC is back at 100. It
// returns nil, and tunes nothing, when opts.Headroom is 0, GOGC is set in
// the environment or another Tuner runs.
func Start(ctx context.Context, opts Options) *Tuner {
	if opts.Headroom == 0 || os.Getenv("GOGC") != "" || !running.CompareAndSwap(false, true) {
		return nil
	}
	if opts.Every <= 0 {
		opts.Every = time.Second
	}
	t := &Tuner{headroom: opts.Headroom, every: opts.Every, percent: base}
	t.samples[0].Name = "/gc/heap/live:bytes"
	t.samples[1].Name = "/gc/heap/allocs:bytes"
	t.samples[2].Name = "/gc/heap/goal:bytes"
	t.arm()
	go t.watch(ctx)
	return t
}

// sentinel is allocated for one collection: its cleanup runs after the
// cycle that finds it unreachable. It holds a pointer so that it is not
// batched by the tiny allocator, whose blocks are freed together.
type sentinel struct{ _ *byte }

// arm schedules afterGC for the end of the next collection.
func (t *Tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *Tuner) { t.afterGC() }, t)
}

// afterGC sets the goal of the next cycle from the live heap the last one
// found, and re-arms for the one after.
func (t *Tuner) afterGC() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.cycles++
	if t.active {
		t.apply(t.read())
	}
	t.arm()
}

// reading is what the Tuner reads of the runtime.
type reading struct {
	live   uint64 // the heap the last cycle marked (0 before the first)
	allocs uint64 // bytes allocated since the start
	goal   uint64 // the heap size at which the next cycle is due
}

// read reads the runtime's metrics; t.mu is held.
func (t *Tuner) read() reading {
	metrics.Read(t.samples[:])
	var v [3]uint64
	for i, s := range t.samples {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	return reading{live: v[0], allocs: v[1], goal: v[2]}
}

// nextPercent is the GOGC that moves the goal to live+headroom, from the
// goal the runtime computed with the GOGC p in effect. The runtime applies
// GOGC to more than the marked heap (stacks, globals, and its own view of
// what was marked), so rather than modelling its formula the distance
// from the live heap to its goal is scaled: that distance grows in
// proportion to GOGC. Before the first cycle (live is 0) or with a goal
// below the live heap there is nothing to scale: p stays. The result is
// kept within [base, maxPercent].
func nextPercent(p int, r reading, headroom uint64) int {
	if r.live == 0 || r.goal <= r.live {
		return p
	}
	next := uint64(p) * headroom / (r.goal - r.live)
	switch {
	case next < base:
		return base
	case next > maxPercent:
		return maxPercent
	}
	return int(next)
}

// apply sets GOGC for reading r; t.mu is held. Small changes are not
// made: each SetGCPercent recomputes the pacer's goal.
func (t *Tuner) apply(r reading) {
	p := nextPercent(t.percent, r, t.headroom)
	if d := p - t.percent; d > t.percent/16 || -d > t.percent/16 {
		debug.SetGCPercent(p)
		t.percent = p
	}
}

// watch reads the allocation rate every t.every: above a quarter of the
// headroom per second (more than one cycle every four seconds at GOGC=100's
// goal, at least), the headroom is applied; below, it is given back.
func (t *Tuner) watch(ctx context.Context) {
	tick := time.NewTicker(t.every)
	defer tick.Stop()
	t.mu.Lock()
	last := t.read().allocs
	t.mu.Unlock()
	fast := t.headroom / 4 * uint64(t.every) / uint64(time.Second)
	for {
		select {
		case <-ctx.Done():
			t.mu.Lock()
			t.stopped, t.active = true, false
			debug.SetGCPercent(base)
			t.percent = base
			t.mu.Unlock()
			running.Store(false)
			return
		case <-tick.C:
		}
		t.mu.Lock()
		now := t.read()
		busy := now.allocs-last >= fast
		last = now.allocs
		release := false
		switch {
		case busy && !t.active:
			t.active = true
			t.apply(now)
		case !busy && t.active:
			t.active = false
			debug.SetGCPercent(base)
			t.percent = base
			release = true
		}
		t.mu.Unlock()
		if release {
			// One collection and scavenge now, while idle: the garbage
			// the headroom let accumulate would otherwise stay until
			// the next cycle, which an idle process may not run for
			// minutes.
			debug.FreeOSMemory()
		}
	}
}
