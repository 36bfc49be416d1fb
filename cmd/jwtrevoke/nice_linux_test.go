package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestLowerPriority: in a process of its own (a nice value cannot be
// raised again), lowerPriority gives every thread the nice value, those the
// runtime had started and those started afterwards, and never lowers one
// that is higher.
func TestLowerPriority(t *testing.T) {
	if os.Getenv("JWTREVOKE_NICE_CHILD") != "" {
		niceChild(t)
		return
	}
	for _, c := range []struct {
		start, set, want int
	}{
		{0, 7, 7},
		{12, 7, 12}, // started under nice 12: kept
	} {
		args := []string{"-n", strconv.Itoa(c.start), os.Args[0], "-test.run=^TestLowerPriority$", "-test.v"}
		cmd := exec.Command("nice", args...)
		cmd.Env = append(os.Environ(), "JWTREVOKE_NICE_CHILD="+strconv.Itoa(c.set))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child started at %d: %v\n%s", c.start, err, out)
		}
		want := "nice of every thread: " + strconv.Itoa(c.want) + "\n"
		if strings.Count(string(out), want) != 2 {
			t.Errorf("child started at %d, set %d: want %q before and after new threads, got\n%s", c.start, c.set, want, out)
		}
	}
}

func niceChild(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("JWTREVOKE_NICE_CHILD"))
	threads := func(k int) {
		// k goroutines, each on a thread of its own at once
		var ready, done sync.WaitGroup
		release := make(chan struct{})
		for range k {
			ready.Add(1)
			done.Add(1)
			go func() {
				defer done.Done()
				runtime.LockOSThread()
				ready.Done()
				<-release
			}()
		}
		ready.Wait()
		close(release)
		done.Wait()
	}
	report := func() {
		tasks, err := filepath.Glob("/proc/self/task/*/stat")
		if err != nil || len(tasks) < 2 {
			t.Fatalf("threads: %v %v", tasks, err)
		}
		seen := map[string]bool{}
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // ended
			}
			fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
			seen[fields[16]] = true // field 19 of stat, the nice value
		}
		if len(seen) != 1 {
			t.Fatalf("threads at different nice values: %v", seen)
		}
		for v := range seen {
			os.Stdout.WriteString("nice of every thread: " + v + "\n")
		}
	}
	threads(4)
	if err := lowerPriority(n); err != nil {
		t.Fatal(err)
	}
	report()
	threads(8)
	report()
}
