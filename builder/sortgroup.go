package builder

import (
	"context"
	"sync"
)

// group runs goroutines that share a context; the first error cancels the
// rest and is the one returned (a small errgroup; x/sync is not a dependency).
type group struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

func newGroup(ctx context.Context) *group {
	g := &group{}
	g.ctx, g.cancel = context.WithCancelCause(ctx)
	return g
}

func (g *group) fail(err error) {
	g.once.Do(func() {
		g.err = err
		g.cancel(err)
	})
}

func (g *group) go_(f func(ctx context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(g.ctx); err != nil {
			g.fail(err)
		}
	}()
}

func (g *group) wait() error {
	g.wg.Wait()
	g.cancel(nil)
	if g.err != nil {
		return g.err
	}
	return nil
}
