package builder

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// physicalRAM returns MemTotal from /proc/meminfo, or 4 GiB if unknown.
func physicalRAM() int64 {
	if v := procField("/proc/meminfo", "MemTotal:"); v > 0 {
		return v
	}
	return 4 << 30
}

// procField reads a "Name:   123 kB" line.
func procField(file, name string) int64 {
	f, err := os.Open(file)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte(name)) {
			continue
		}
		fields := bytes.Fields(line[len(name):])
		if len(fields) == 0 {
			return 0
		}
		v, err := strconv.ParseInt(string(fields[0]), 10, 64)
		if err != nil {
			return 0
		}
		if len(fields) > 1 && string(fields[1]) == "kB" {
			v <<= 10
		}
		return v
	}
	return 0
}
