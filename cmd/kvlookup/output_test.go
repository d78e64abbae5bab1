package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzJSONField checks that every byte string comes back exactly from the
// JSON line kvlookup prints, through encoding/json and base64.
func FuzzJSONField(f *testing.F) {
	for _, s := range []string{"", "apple", "a\"b\\c", "\x00\x1f\x7f", "\u2028\u2029", "\xff\xfe", "日本", "\xe2\x80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		line := append(appendJSONField([]byte("{"), "key", s), '}')
		var m map[string]string
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%q: invalid JSON %s: %v", s, line, err)
		}
		var got []byte
		if v, ok := m["key"]; ok {
			if !utf8.Valid(s) {
				t.Fatalf("%q is not UTF-8 but printed as a string", s)
			}
			got = []byte(v)
		} else {
			var err error
			if got, err = base64.StdEncoding.DecodeString(m["key_b64"]); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, s) {
			t.Fatalf("round trip of %q gave %q (line %s)", s, got, line)
		}
		if bytes.Contains(line, []byte("\u2028")) || bytes.ContainsAny(line, "\n\r") {
			t.Fatalf("line %s contains a raw line separator", line)
		}
	})
}
