package main

import (
	"errors"
	"path/filepath"

	"github.com/kvdict/kvdict/builder"
	"github.com/kvdict/kvdict/store"
)

// target is what kvbuild writes: the dictionary directory DICT, or with
// --publish the next version of the store DICT.
type target struct {
	b       *builder.Builder
	pending *store.Pending // with --publish
	path    string         // the dictionary directory written
}

// openTarget starts the build of out. Errors carry kvbuild's exit code:
// 2 for a target that exists (without --force), is not a dictionary or
// store, or is busy with another publisher.
func openTarget(out string, publish bool, bopts *builder.Options) (*target, error) {
	if publish {
		if bopts.Force {
			return nil, usageErr("--force does nothing with --publish: a store's versions are never replaced")
		}
		p, err := store.Begin(out, bopts)
		if err != nil {
			if errors.Is(err, store.ErrBusy) || errors.Is(err, store.ErrNotStore) {
				return nil, &exitError{exitUsage, err}
			}
			return nil, &exitError{exitIO, err}
		}
		return &target{b: p.Builder, pending: p, path: filepath.Join(out, p.Name())}, nil
	}
	b, err := builder.Create(out, bopts)
	if err != nil {
		if errors.Is(err, builder.ErrExists) || errors.Is(err, builder.ErrNotDict) {
			return nil, &exitError{exitUsage, err}
		}
		return nil, &exitError{exitIO, err}
	}
	return &target{b: b, path: b.Path()}, nil // Path differs from out when out is a symlink
}

// commit installs the dictionary; with --publish it also makes the new
// version the store's current one.
func (t *target) commit() error {
	if t.pending != nil {
		_, err := t.pending.Publish()
		return err
	}
	_, err := t.b.Commit()
	return err
}

// abort discards an uncommitted build (a no-op after commit).
func (t *target) abort() {
	if t.pending != nil {
		t.pending.Abort()
		return
	}
	t.b.Abort()
}
