package reader

import "github.com/kvdict/kvdict/internal/mmapfile"

// Advice is an access-pattern hint for the dictionary's mapped files.
type Advice = mmapfile.Advice

// Access-pattern hints; see Options.Advice.
const (
	// AdviceNormal keeps the kernel's readahead: a cold dictionary warms
	// up fastest. The default; right when the dictionary fits in RAM.
	// It also asks for transparent huge pages (MADV_HUGEPAGE), so pages
	// read through the mapping are cached and mapped 2 MiB at a time,
	// which makes warm lookups in large files up to 2x faster.
	AdviceNormal = mmapfile.AdviceNormal
	// AdviceRandom turns readahead off (MADV_RANDOM): each cold lookup
	// reads only the 4-5 pages it touches. Right when the dictionary is
	// much larger than RAM.
	AdviceRandom = mmapfile.AdviceRandom
	// AdviceWillNeed starts reading the whole dictionary into the page
	// cache in the background at Open.
	AdviceWillNeed = mmapfile.AdviceWillNeed
)

// Options configure Open. A nil *Options means the defaults.
type Options struct {
	// Advice is the access-pattern hint given to the kernel for every
	// mapped file. Default AdviceNormal.
	Advice Advice
	// Verify makes Open read the whole dictionary and check every
	// checksum, as Dict.Verify does. Open is then O(size) instead of
	// O(1). Default false.
	Verify bool
}
