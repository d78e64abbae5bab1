// Package escape is the one definition of kvdict's TSV escaping rule,
// shared by kvbuild --unescape (reading input) and kvlookup --escape
// (writing output), so that `kvlookup dump --escape DICT | kvbuild
// --unescape` rebuilds the same dictionary. Backslash, TAB, LF and CR are
// written as \\ \t \n \r; every other byte stands for itself.
package escape

import "bytes"

// Append appends s to dst with backslash, TAB, LF and CR escaped.
func Append(dst, s []byte) []byte {
	for {
		i := bytes.IndexAny(s, "\\\t\n\r")
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, '\\', "\\tnr"[index(s[i])])
		s = s[i+1:]
	}
}

// index maps \ TAB LF CR to 0..3.
func index(c byte) int {
	switch c {
	case '\t':
		return 1
	case '\n':
		return 2
	case '\r':
		return 3
	}
	return 0
}

// decode returns the byte an escape letter stands for.
func decode(c byte) (byte, bool) {
	switch c {
	case '\\':
		return '\\', true
	case 't':
		return '\t', true
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	}
	return 0, false
}

// Unescape appends s to dst with \\ \t \n \r decoded. A backslash before
// any other byte, or at the end, makes ok false. dst may be s[:0]: the
// output is never longer than the input, so s is decoded in place.
func Unescape(dst, s []byte) (out []byte, ok bool) {
	for {
		i := bytes.IndexByte(s, '\\')
		if i < 0 {
			return append(dst, s...), true
		}
		if i == len(s)-1 {
			return dst, false
		}
		c, ok := decode(s[i+1])
		if !ok {
			return dst, false
		}
		dst = append(append(dst, s[:i]...), c)
		s = s[i+2:]
	}
}

// Lenient is Unescape for text typed by a person (keys on a command line):
// a backslash before any other byte, or at the end, is kept as it is.
func Lenient(dst, s []byte) []byte {
	for {
		i := bytes.IndexByte(s, '\\')
		if i < 0 || i == len(s)-1 {
			return append(dst, s...)
		}
		c, ok := decode(s[i+1])
		dst = append(dst, s[:i]...)
		if ok {
			dst = append(dst, c)
		} else {
			dst = append(dst, s[i], s[i+1])
		}
		s = s[i+2:]
	}
}
