package tmpdir

// Owner record format (a text file named OwnerFile inside the directory):
//
//	kvdict-tmp 1\n          magic and version
//	pid 12345\n             the owning process
//	start 987654\n          its start time, clock ticks after boot
//	                        (/proc/PID/stat field 22): tells a reused PID apart
//	boot 0b8c...-...\n      /proc/sys/kernel/random/boot_id: another boot means dead
//	pidns pid:[4026531836]\n   readlink /proc/self/ns/pid: PIDs only compare
//	                        within one PID namespace (containers)
//	host buildbox\n         hostname: a directory on shared storage may belong
//	                        to another machine, whose processes we cannot see
//	kept\n                  optional: kept on purpose (--keep-tmp), never swept
//
// Example: "kvdict-tmp 1\npid 4242\nstart 81234\nboot 6d1c...\npidns pid:[4026531836]\nhost ci-7\n".
// Lines may come in any order; unknown lines are ignored (a later version
// may add some). A record that lacks pid, start, boot or host proves
// nothing.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// OwnerFile is the name of the owner record inside a temporary directory.
const OwnerFile = ".kvdict-owner"

const magic = "kvdict-tmp 1"

// owner identifies a process across reboots, PID reuse and containers.
type owner struct {
	pid   int
	start uint64
	boot  string
	pidns string
	host  string
	kept  bool
}

func (o *owner) encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\npid %d\nstart %d\nboot %s\npidns %s\nhost %s\n", magic, o.pid, o.start, o.boot, o.pidns, o.host)
	if o.kept {
		b.WriteString("kept\n")
	}
	return b.Bytes()
}

var errNoRecord = errors.New("no owner record")

func parseOwner(data []byte) (*owner, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	if !sc.Scan() || sc.Text() != magic {
		return nil, errNoRecord
	}
	o := &owner{}
	var have int
	for sc.Scan() {
		name, val, _ := strings.Cut(sc.Text(), " ")
		var err error
		switch name {
		case "pid":
			o.pid, err = strconv.Atoi(val)
			have |= 1
		case "start":
			o.start, err = strconv.ParseUint(val, 10, 64)
			have |= 2
		case "boot":
			o.boot = val
			have |= 4
		case "host":
			o.host = val
			have |= 8
		case "pidns":
			o.pidns = val
		case "kept":
			o.kept = true
		}
		if err != nil {
			return nil, errNoRecord
		}
	}
	if have != 15 || o.pid <= 0 || o.boot == "" {
		return nil, errNoRecord
	}
	return o, nil
}

// self is this process's record; nil where /proc cannot say (then nothing
// is ever proved dead, and Create still works).
var self = sync.OnceValue(func() *owner {
	start, err := procStart(os.Getpid())
	boot := readTrim("/proc/sys/kernel/random/boot_id")
	host, herr := os.Hostname()
	if err != nil || boot == "" || herr != nil {
		return nil
	}
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return &owner{pid: os.Getpid(), start: start, boot: boot, pidns: ns, host: host}
})

// procStart returns field 22 of /proc/PID/stat (the start time in clock
// ticks after boot). The command name (field 2) may hold spaces and
// parentheses, so fields are counted after its last ')'.
func procStart(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("tmpdir: bad /proc/%d/stat", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 { // fields 3..22
		return 0, fmt.Errorf("tmpdir: bad /proc/%d/stat", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

func readTrim(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// verdict is what an owner record proves.
type verdict int

const (
	alive    verdict = iota // the owner runs: keep
	dead                    // provably dead: remove
	unproven                // cannot tell from here: keep
	kept                    // kept on purpose: keep, say nothing
)

// judge decides whether o's process is dead, as seen by me.
func judge(o, me *owner) verdict {
	switch {
	case o.kept:
		return kept
	case me == nil || o.host != me.host:
		return unproven
	case o.boot != me.boot:
		return dead // rebooted since: every process of that boot is gone
	case o.pidns != me.pidns:
		return unproven
	}
	start, err := procStart(o.pid)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return dead
	case err != nil:
		return unproven
	case start != o.start:
		return dead // the PID was reused by a younger process
	}
	return alive
}
