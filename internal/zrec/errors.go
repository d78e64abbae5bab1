package zrec

import (
	"fmt"

	"github.com/kvdict/kvdict/internal/frame"
)

// ErrCorrupt is returned (wrapped, with the reason) when a group or a
// dictionary is damaged. It is the same value as frame.ErrCorrupt, so
// errors.Is works across every kvdict package.
var ErrCorrupt = frame.ErrCorrupt

// corruptf returns an error wrapping ErrCorrupt.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("zrec: %s: %w", fmt.Sprintf(format, args...), ErrCorrupt)
}
