package escape

import (
	"bytes"
	"testing"
)

// Ensure the documented examples, and that Unescape(Append(s)) == s.
func TestRoundTrip(t *testing.T) {
	cases := []struct{ raw, esc string }{
		{"", ""},
		{"plain", "plain"},
		{"a\tb\nc\rd\\e", `a\tb\nc\rd\\e`},
		{"\\t is not a tab", `\\t is not a tab`},
		{"\xff\x00", "\xff\x00"},
	}
	for _, c := range cases {
		if got := Append(nil, []byte(c.raw)); string(got) != c.esc {
			t.Errorf("Append(%q) = %q, want %q", c.raw, got, c.esc)
		}
		got, ok := Unescape(nil, []byte(c.esc))
		if !ok || string(got) != c.raw {
			t.Errorf("Unescape(%q) = %q, %v; want %q", c.esc, got, ok, c.raw)
		}
		inPlace := []byte(c.esc)
		if got, ok := Unescape(inPlace[:0], inPlace); !ok || string(got) != c.raw {
			t.Errorf("in place: Unescape(%q) = %q, %v", c.esc, got, ok)
		}
		if got := Lenient(nil, []byte(c.esc)); string(got) != c.raw {
			t.Errorf("Lenient(%q) = %q", c.esc, got)
		}
	}
}

// Ensure bad sequences are errors for Unescape and kept by Lenient.
func TestBadSequences(t *testing.T) {
	for _, s := range []string{`\x`, `a\`, `\\\`, `\0`} {
		if _, ok := Unescape(nil, []byte(s)); ok {
			t.Errorf("Unescape(%q) accepted", s)
		}
	}
	if got := Lenient(nil, []byte(`C:\x\`)); string(got) != `C:\x\` {
		t.Errorf("Lenient kept %q", got)
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("a\tb\\n"))
	f.Fuzz(func(t *testing.T, s []byte) {
		got, ok := Unescape(nil, Append(nil, s))
		if !ok || !bytes.Equal(got, s) {
			t.Fatalf("round trip of %q = %q, %v", s, got, ok)
		}
	})
}
