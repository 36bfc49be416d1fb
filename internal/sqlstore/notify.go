package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// notifier runs the dialect's AfterRevocations statement after commits
// that recorded revocations, from one goroutine: the commits made while a
// statement is running are announced together by the next one, so a
// burst of logouts sends few notifications, each of them started after
// the commits it stands for. The statement runs in its own transaction,
// outside the data's: a lost notification (a crash between the two, the
// database unreachable) is made up for by the listeners' periodic
// polling.
type notifier struct {
	db   *sql.DB
	stmt string

	mu   sync.Mutex
	next chan struct{} // closed once the next round (not started yet) is sent; nil if none is asked for

	kick chan struct{} // buffered 1: a round is asked for
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

const (
	// notifyTimeout bounds one run of the statement.
	notifyTimeout = 5 * time.Second
	// notifyWait bounds how long a revoking call waits for its
	// notification to be sent before it returns anyway (its data is
	// committed; polling will find it).
	notifyWait = 100 * time.Millisecond
)

func newNotifier(db *sql.DB, stmt string) *notifier {
	n := &notifier{db: db, stmt: stmt, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go n.loop()
	return n
}

// poke asks for a notification, to be started after now; the channel is
// closed when it has been sent (or given up).
func (n *notifier) poke() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.next == nil {
		n.next = make(chan struct{})
		select {
		case n.kick <- struct{}{}:
		default:
		}
	}
	return n.next
}

// announce pokes and waits, at most notifyWait or until ctx ends, until
// the notification is sent: a caller told that its revocation is recorded
// knows that the other instances have been told too.
func (n *notifier) announce(ctx context.Context) {
	sent := n.poke()
	t := time.NewTimer(notifyWait)
	defer t.Stop()
	select {
	case <-sent:
	case <-ctx.Done():
	case <-t.C:
	}
}

func (n *notifier) loop() {
	defer close(n.done)
	for {
		select {
		case <-n.kick:
			n.round()
		case <-n.stop:
			n.round() // what is still asked for
			return
		}
	}
}

// round sends the notification asked for, if any, and tells the callers.
func (n *notifier) round() {
	n.mu.Lock()
	cur := n.next
	n.next = nil
	n.mu.Unlock()
	if cur == nil {
		return
	}
	n.send()
	close(cur)
}

// send runs the statement, trying again a few times, briefly, when it
// fails.
func (n *notifier) send() {
	for attempt := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
		_, err := n.db.ExecContext(ctx, n.stmt)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-n.stop:
			return
		case <-time.After(time.Duration(attempt+1) * 20 * time.Millisecond):
		}
	}
}

// close sends what is still asked for and stops the goroutine; call it
// before closing the pool.
func (n *notifier) close() {
	n.once.Do(func() { close(n.stop) })
	<-n.done
}
