package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// lowerPriority gives the whole process at least the nice value n (a
// higher one is kept: only a privileged process may lower it). Linux keeps
// a nice value per thread, and a new thread takes its creator's, so every
// thread the Go runtime has started is set, twice over in case one was
// being created meanwhile; the threads it starts later inherit it.
func lowerPriority(n int) error {
	var errs []error
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("lower the priority: %w", err)
		}
		for _, task := range tasks {
			tid, err := strconv.Atoi(task.Name())
			if err != nil {
				continue
			}
			// the system call returns 20 - nice (1 to 40)
			cur, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
			if err != nil {
				continue // the thread has ended
			}
			if 20-cur >= n {
				continue
			}
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, n); err != nil && !errors.Is(err, syscall.ESRCH) {
				errs = append(errs, fmt.Errorf("lower the priority of thread %d: %w", tid, err))
			}
		}
	}
	return errors.Join(errs...)
}
