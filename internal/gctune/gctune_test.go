package gctune

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
)

func TestNextPercent(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		p    int
		r    reading
		want int
	}{
		{100, reading{live: 2 * mb, goal: 4 * mb}, 1600},     // 2 MB above live at 100: 32 MB needs 16 times that
		{1600, reading{live: 2 * mb, goal: 66 * mb}, 800},    // the runtime went to 64 MB above live: halve
		{800, reading{live: 2 * mb, goal: 34 * mb}, 800},     // on target
		{100, reading{live: 64 * mb, goal: 128 * mb}, 100},   // a large live heap keeps GOGC=100's goal
		{100, reading{live: 0, goal: 4 * mb}, 100},           // no collection yet: nothing to scale
		{300, reading{live: 5 * mb, goal: 4 * mb}, 300},      // goal below live: nothing to scale
		{100, reading{live: mb, goal: mb + mb/1000}, 10_000}, // bounded
	} {
		if got := nextPercent(c.p, c.r, 32*mb); got != c.want {
			t.Errorf("nextPercent(%d, %+v) = %d, want %d", c.p, c.r, got, c.want)
		}
	}
}

// sink keeps the test's allocations from being optimised away.
var sink []byte

// TestTunerFollowsAllocation allocates fast until the tuner applies its
// headroom (GOGC above 100), then stops and waits for it to give the
// headroom back; when its context ends, GOGC is 100 again.
func TestTunerFollowsAllocation(t *testing.T) {
	t.Setenv("GOGC", "") // an inherited GOGC would turn the tuner off
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tu := Start(ctx, Options{Headroom: 8 << 20, Every: 20 * time.Millisecond})
	if tu == nil {
		t.Fatal("Start returned nil")
	}
	if Start(ctx, Options{Headroom: 8 << 20}) != nil {
		t.Fatal("a second tuner started while one runs")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		for range 1000 {
			sink = make([]byte, 4096)
		}
		tu.mu.Lock()
		cycles := tu.cycles
		tu.mu.Unlock()
		if active, p := tu.Active(); active && p > base && cycles > 1 {
			break
		}
		if time.Now().After(deadline) {
			active, p := tu.Active()
			t.Fatalf("allocating fast: active=%v GOGC=%d, want the headroom applied", active, p)
		}
	}
	for deadline = time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if active, p := tu.Active(); !active && p == base {
			break
		}
		if time.Now().After(deadline) {
			active, p := tu.Active()
			t.Fatalf("idle: active=%v GOGC=%d, want it given back", active, p)
		}
	}
	cancel()
	for deadline = time.Now().Add(10 * time.Second); running.Load(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the tuner did not stop with its context")
		}
	}
	if p := debug.SetGCPercent(base); p != base {
		t.Errorf("GOGC after stop = %d, want %d", p, base)
	}
}

func TestStartOff(t *testing.T) {
	if Start(context.Background(), Options{}) != nil {
		t.Error("Headroom 0 started a tuner")
	}
	t.Setenv("GOGC", "200")
	if Start(context.Background(), Options{Headroom: 1 << 20}) != nil {
		t.Error("a tuner started with GOGC set")
	}
}
