// Package proctest starts real jwtrevoke server processes for end-to-end
// tests: build the binary once, start it on a free loopback port, read the
// address it logs, kill it with SIGKILL or stop it with SIGTERM.
package proctest

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build compiles ./cmd/jwtrevoke of the module containing the working
// directory into dir and returns the binary's path.
func Build(dir string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(dir, "jwtrevoke")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/jwtrevoke")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	return bin, cmd.Run()
}

// Proc is a running server process.
type Proc struct {
	URL  string // http://127.0.0.1:port
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs strings.Builder
	done chan struct{}
}

var urlRe = regexp.MustCompile(`url=(http://\S+)`)

// Start runs exe with args (e.g. "serve", "--addr", "127.0.0.1:0") and the
// extra environment, waits until it logs its address, and kills it when
// the test ends.
func Start(t testing.TB, exe string, env []string, args ...string) *Proc {
	t.Helper()
	p := &Proc{cmd: exec.Command(exe, args...), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			if m := urlRe.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() { p.Kill() })
	select {
	case p.URL = <-found:
		return p
	case <-p.done:
		_ = p.cmd.Wait()
		t.Fatalf("%s exited before serving; log:\n%s", exe, p.Logs())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not report its address in 60 s; log:\n%s", exe, p.Logs())
	}
	return nil
}

// Logs returns what the process logged so far.
func (p *Proc) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// Kill ends the process with SIGKILL and waits for it.
func (p *Proc) Kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	_ = p.cmd.Wait()
}

// Stop ends the process with SIGTERM, waits, and returns its exit error.
func (p *Proc) Stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	return p.cmd.Wait()
}
