package zrec_test

import (
	"testing"

	"github.com/kvdict/kvdict/internal/zrec"
)

// BenchmarkEarlyStop estimates what a Get would gain if the decoder
// stopped at the end of the wanted record instead of decoding its whole
// group (not implemented: the group's CRC-32C covers the whole payload,
// so stopping early means not checking it). Same groups as
// BenchmarkAppendRecord (8 PyPI sample rows), one record of each decoded
// and copied out:
//
//   - stop=none/crc: the whole group, checksum verified (what Get does);
//   - stop=none/nocrc: the whole group, no checksum (the CRC's share);
//   - stop=record/nocrc: record i from a group holding only records
//     0..i, encoded on its own, no checksum: the same sequences and
//     literals as the group's up to record i (matches only reach back),
//     so about what an early stop would decode.
func BenchmarkEarlyStop(b *testing.B) {
	const per = 8
	dict := trainedDict()
	rows := pypiLines()[10000:14000]
	payloads := groupsOf(rows, per)
	for _, mode := range []string{"none/crc", "none/nocrc", "record/nocrc"} {
		b.Run("stop="+mode, func(b *testing.B) {
			crc := mode == "none/crc"
			e := mustEncoder(b, dict, &zrec.EncoderOptions{NoChecksum: !crc})
			d := mustDecoder(b, dict, &zrec.DecoderOptions{NoChecksum: !crc})
			// groups[g*per+i] is what record i of group g is read from.
			var groups [][]byte
			payloadBytes := 0
			for g := range payloads {
				full := e.AppendGroup(nil, payloads[g])
				for i := range per {
					if mode == "record/nocrc" {
						prefix := zrec.AppendRecord(nil, rows[g*per])
						for _, r := range rows[g*per+1 : g*per+i+1] {
							prefix = zrec.AppendRecord(prefix, r)
						}
						groups = append(groups, e.AppendGroup(nil, prefix))
						payloadBytes += len(prefix)
					} else {
						groups = append(groups, full)
						payloadBytes += len(payloads[g])
					}
				}
			}
			timeRecordReads(b, d, groups, per, payloadBytes)
		})
	}
}
