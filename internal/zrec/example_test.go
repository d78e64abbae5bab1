package zrec_test

import (
	"fmt"

	"github.com/kvdict/kvdict/internal/zrec"
)

// Example trains a dictionary, stores two groups back to back and reads one
// record back by (group offset, index), the way a value log addresses it.
func Example() {
	records := [][]byte{}
	for i := range 2000 {
		records = append(records, fmt.Appendf(nil, "package-%d\t1.%d.0\tA library for doing thing number %d", i, i%7, i%13))
	}

	// Build: cut groups of 8 records, sample them, train.
	tr := zrec.NewTrainer(nil)
	var payloads [][]byte
	for i := 0; i < len(records); i += 8 {
		var p []byte
		for _, r := range records[i:min(i+8, len(records))] {
			p = zrec.AppendRecord(p, r)
		}
		payloads = append(payloads, p)
		tr.Add(p)
	}
	dict, err := tr.Train()
	if err != nil {
		panic(err)
	}
	enc, err := zrec.NewEncoder(dict, nil)
	if err != nil {
		panic(err)
	}
	defer enc.Close()
	var log []byte
	var offsets []int
	for _, p := range payloads {
		offsets = append(offsets, len(log))
		log = enc.AppendGroup(log, p)
	}

	// Read record 5 of group 3 (record 29) into a reused buffer.
	dec, err := zrec.NewDecoder(dict, &zrec.DecoderOptions{MaxPayload: enc.MaxPayload()})
	if err != nil {
		panic(err)
	}
	defer dec.Close()
	buf := make([]byte, 0, 256)
	buf, err = dec.AppendRecord(buf[:0], log[offsets[3]:], 5)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s\n", buf)
	fmt.Println(len(log) < 2000*45/2) // more than 2x smaller than raw
	// Output:
	// package-29	1.1.0	A library for doing thing number 3
	// true
}
