package hashindex

import (
	"errors"
	"fmt"

	"github.com/kvdict/kvdict/internal/frame"
)

// These errors are returned, wrapped with the reason, when an index file
// cannot be used. They are the values of package frame, so errors.Is works
// across every kvdict package.
var (
	// ErrCorrupt is returned when the file is truncated, fails a checksum,
	// or its trailer or entries are inconsistent. It is frame.ErrCorrupt.
	ErrCorrupt = frame.ErrCorrupt
	// ErrMagic is returned when the data is not an index file.
	ErrMagic = frame.ErrMagic
	// ErrVersion is returned for a newer file version, or a hash function,
	// entry layout or address shift this build does not implement.
	ErrVersion = frame.ErrVersion
)

// ErrGroups is returned by Verify on an index whose entries address
// groups (Shift GroupShift), which only VerifyGroups can check.
var ErrGroups = errors.New("hashindex: the entries address groups: use VerifyGroups")

func corruptf(format string, args ...any) error {
	return fmt.Errorf("hashindex: "+format+": %w", append(args, ErrCorrupt)...)
}
