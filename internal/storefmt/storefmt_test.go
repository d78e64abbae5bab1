package storefmt

import (
	"bytes"
	"errors"
	"testing"

	"github.com/kvdict/kvdict/internal/frame"
)

// Ensure that CURRENT's bytes are exactly those of the worked example in
// the package doc.
func TestEncodeCurrent_Golden(t *testing.T) {
	want := []byte{0x76, 0x30, 0x30, 0x30, 0x30, 0x34, 0x33, 0x2e, 0x6b, 0x76, 0x64, 0x0a}
	if got := EncodeCurrent(43); !bytes.Equal(got, want) {
		t.Fatalf("EncodeCurrent(43) = % x, want % x", got, want)
	}
	name, n, err := DecodeCurrent(want)
	if err != nil || name != "v000043.kvd" || n != 43 {
		t.Fatalf("DecodeCurrent = %q, %d, %v", name, n, err)
	}
}

// Ensure that every malformed CURRENT is ErrCorrupt and never a name that
// could leave the store directory.
func TestDecodeCurrent_Bad(t *testing.T) {
	for _, s := range []string{"", "\n", "v000043.kvd", "v000043.kvd\n\n", "v43.kvd\n", "../v000043.kvd\n",
		"v000043.kvd/x\n", "v00004a.kvd\n", "v000043\n", "v99999999999999999999.kvd\n", "V000043.kvd\n", " v000043.kvd\n"} {
		if name, _, err := DecodeCurrent([]byte(s)); !errors.Is(err, frame.ErrCorrupt) {
			t.Errorf("DecodeCurrent(%q) = %q, %v; want ErrCorrupt", s, name, err)
		}
	}
}

// Ensure that version names round-trip, and that other names are not mistaken for versions.
func TestVersionName(t *testing.T) {
	for _, n := range []uint64{0, 1, 43, 999999, 1000000, 1<<63 + 5} {
		if got, ok := ParseVersionName(VersionName(n)); !ok || got != n {
			t.Errorf("ParseVersionName(VersionName(%d)) = %d, %v", n, got, ok)
		}
	}
	for _, s := range []string{"CURRENT", "LOCK", ".v000044.kvd.tmp-123", "v000044.kvd.tmp", "v12345.kvd", "v000044.kvdx"} {
		if _, ok := ParseVersionName(s); ok {
			t.Errorf("ParseVersionName(%q) accepted", s)
		}
	}
}
