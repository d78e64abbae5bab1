// Package workgroup runs goroutines that share a context: the first error
// cancels the others and is the one Wait returns. It is errgroup's core
// (golang.org/x/sync is not a dependency), used by the sorter and by
// kvbuild's TSV front end.
package workgroup

import (
	"context"
	"sync"
)

// Group is a set of goroutines working on one task.
type Group struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

// New returns a Group whose context is derived from ctx.
func New(ctx context.Context) *Group {
	g := &Group{}
	g.ctx, g.cancel = context.WithCancelCause(ctx)
	return g
}

// Context is cancelled, with the error as its cause, when a goroutine
// fails or Fail is called, and when Wait returns.
func (g *Group) Context() context.Context { return g.ctx }

// Fail records err as the group's error, if it is the first, and cancels
// the context.
func (g *Group) Fail(err error) {
	g.once.Do(func() {
		g.err = err
		g.cancel(err)
	})
}

// Go runs f in a new goroutine; an error it returns fails the group.
func (g *Group) Go(f func(ctx context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(g.ctx); err != nil {
			g.Fail(err)
		}
	}()
}

// Wait waits for every goroutine and returns the first error.
func (g *Group) Wait() error {
	g.wg.Wait()
	g.cancel(nil)
	return g.err
}
