package builder_test

import (
	"encoding/json"
	"testing"

	"github.com/kvdict/kvdict/builder"
)

// Ensure any bytes given as a part description are refused with an error
// or accepted as a description that re-encodes and decodes to itself —
// never a panic. A join reads descriptions written on other machines.
func FuzzDecodePart(f *testing.F) {
	f.Add([]byte(`{"kvdict_part":1,"name":"p","range":{"lo":"","hi":null},"keys":0,"values":0,"max_key_len":0,"partitions":[]}`))
	f.Add([]byte(`{"kvdict_part":1,"name":"p","range":{"lo":"YQ==","hi":"Yg=="},"keys":1,"values":1,"max_key_len":1,` +
		`"partitions":[{"first_key":"YQ==","last_key":"YQ==","keys":1,"fst":{"name":"p-00000.fst","size":60,"crc32c":1,"count":1},` +
		`"vlog":{"name":"p-00000.vlog","size":49,"crc32c":2,"count":1}}]}`))
	f.Add([]byte(`{"kvdict_part":1,"name":"../x","range":{"lo":"Yg==","hi":"YQ=="}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := builder.DecodePart(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := builder.DecodePart(again); err != nil {
			t.Fatalf("accepted %q but not its re-encoding: %v", data, err)
		}
	})
}
