package builder

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kvdict/kvdict/fst"
	"github.com/kvdict/kvdict/hashindex"
	"github.com/kvdict/kvdict/internal/frame"
	"github.com/kvdict/kvdict/internal/manifest"
	"github.com/kvdict/kvdict/internal/mmapfile"
	"github.com/kvdict/kvdict/valuelog"
)

// Partition writes one key range of a dictionary: an FST file mapping each
// key to the offset of its value in the partition's value log. A Partition
// is not safe for concurrent use, but different partitions of one Builder
// may be written from different goroutines at once.
type Partition struct {
	index        int
	dir          string
	fstF         *os.File
	logF         *os.File
	fstW         *fst.Builder
	logW         *valuelog.Writer
	hixF         *os.File          // nil without a hash index
	hixW         *hashindex.Writer // nil without a hash index
	topOpts      *fst.TopOptions   // nil: no top file
	keyed        bool
	payloadBytes uint64 // compressed logs: record bytes before compression
	info         manifest.Partition
	last         []byte // previous key: the partition's last key at Close
	closed       bool
	err          error // sticky

	maxKeyLen int
}

func newPartition(dir string, index int, o *Options) (p *Partition, err error) {
	fstName, logName := PartitionNames(index)
	p = &Partition{index: index, dir: dir}
	p.info.FST.Name, p.info.Log.Name = fstName, logName
	defer func() {
		if err != nil {
			err = errors.Join(err, p.abort())
		}
	}()
	if p.fstF, err = os.OpenFile(filepath.Join(dir, fstName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	if p.logF, err = os.OpenFile(filepath.Join(dir, logName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
		return nil, fmt.Errorf("builder: %w", err)
	}
	if p.fstW, err = fst.NewBuilder(p.fstF, o.FST); err != nil {
		return nil, fmt.Errorf("builder: %s: %w", fstName, err)
	}
	var lo valuelog.WriterOptions
	if o.Log != nil {
		lo = *o.Log
	}
	lo.Keyed = o.KeyedRecords
	lo.Compression = o.Compression
	p.keyed = o.KeyedRecords
	p.topOpts = o.FSTTop
	if p.logW, err = valuelog.NewWriter(p.logF, &lo); err != nil {
		return nil, fmt.Errorf("builder: %s: %w", logName, err)
	}
	if o.HashIndex != nil {
		name := HashIndexName(index)
		p.info.HashIndex = &manifest.FileInfo{Name: name}
		if p.hixF, err = os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err != nil {
			return nil, fmt.Errorf("builder: %w", err)
		}
		p.hixW = hashindex.NewWriter(p.hixF, o.HashIndex)
	}
	return p, nil
}

// Add writes key with value. Keys must be strictly increasing within the
// partition (bytes.Compare order), at most fst.MaxKeyLen bytes long. The
// first error is sticky: every later call returns it.
func (p *Partition) Add(key, value []byte) error {
	if p.err != nil {
		return p.err
	}
	if p.closed {
		return ErrDone
	}
	// fst.Builder.Add enforces strictly increasing keys (naming both on
	// failure); a value appended before a rejected key is harmless, as the
	// error is sticky and the build cannot commit.
	var off uint64
	var err error
	if p.keyed {
		off, err = p.logW.AppendKeyed(key, value)
	} else {
		off, err = p.logW.Append(value)
	}
	if err != nil {
		p.err = fmt.Errorf("builder: %s: %w", p.info.Log.Name, err)
		return p.err
	}
	if err := p.fstW.Add(key, off); err != nil {
		p.err = fmt.Errorf("builder: %s: %w", p.info.FST.Name, err)
		return p.err
	}
	if p.hixW != nil {
		if err := p.hixW.Add(key, off); err != nil {
			p.err = fmt.Errorf("builder: %s: %w", p.info.HashIndex.Name, err)
			return p.err
		}
	}
	if p.info.Keys == 0 {
		p.info.FirstKey = bytes.Clone(key)
	}
	p.last = append(p.last[:0], key...)
	p.info.Keys++
	p.maxKeyLen = max(p.maxKeyLen, len(key))
	return nil
}

// Len reports how many keys have been added.
func (p *Partition) Len() uint64 { return p.info.Keys }

// Close finishes both files and syncs them to disk. Commit closes any
// partition still open; closing twice is harmless.
func (p *Partition) Close() error {
	if p.closed {
		return p.err
	}
	p.closed = true
	if p.err != nil {
		return p.err
	}
	p.info.LastKey = bytes.Clone(p.last)
	if p.info.Keys == 0 {
		p.info.FirstKey, p.info.LastKey = nil, nil
	}
	fstFooter, err := p.fstW.Close()
	if err != nil {
		p.err = fmt.Errorf("builder: %s: %w", p.info.FST.Name, err)
		return p.err
	}
	logFooter, err := p.logW.Close()
	if err != nil {
		p.err = fmt.Errorf("builder: %s: %w", p.info.Log.Name, err)
		return p.err
	}
	p.info.FST = fileInfo(p.info.FST.Name, fstFooter)
	p.info.Log = fileInfo(p.info.Log.Name, logFooter)
	p.payloadBytes = p.logW.Stats().PayloadBytes
	files := []*os.File{p.fstF, p.logF}
	if p.hixW != nil {
		// Built here, in the goroutine that wrote the partition, so the
		// indexes of all partitions are built in parallel.
		hixFooter, err := p.hixW.Close()
		if err != nil {
			p.err = fmt.Errorf("builder: %s: %w", p.info.HashIndex.Name, err)
			return p.err
		}
		fi := fileInfo(p.info.HashIndex.Name, hixFooter)
		p.info.HashIndex = &fi
		files = append(files, p.hixF)
	}
	if p.topOpts != nil && p.info.Keys > 0 {
		if err := p.writeTop(); err != nil {
			p.err = err
			return p.err
		}
	}
	for _, f := range files {
		if err := syncClose(f); err != nil {
			p.err = fmt.Errorf("builder: %w", err)
			return p.err
		}
	}
	p.fstF, p.logF, p.hixF = nil, nil, nil
	return nil
}

// writeTop writes the partition's top file from its finished FST file,
// which it maps (page cache, not heap), and syncs it.
func (p *Partition) writeTop() (err error) {
	name := TopName(p.index)
	m, err := mmapfile.Open(filepath.Join(p.dir, p.info.FST.Name), mmapfile.AdviceNormal)
	if err != nil {
		return fmt.Errorf("builder: %s: %w", name, err)
	}
	defer func() { err = errors.Join(err, m.Close()) }()
	f, err := fst.Load(m.Data)
	if err != nil {
		return fmt.Errorf("builder: %s: %w", p.info.FST.Name, err)
	}
	// Recorded before the file exists, so that remove and abort find it.
	p.info.Top = &manifest.FileInfo{Name: name}
	tf, err := os.OpenFile(filepath.Join(p.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	footer, err := fst.WriteTop(tf, f, p.topOpts)
	if err != nil {
		return errors.Join(fmt.Errorf("builder: %s: %w", name, err), tf.Close())
	}
	if err := syncClose(tf); err != nil {
		return fmt.Errorf("builder: %w", err)
	}
	fi := fileInfo(name, footer)
	p.info.Top = &fi
	return nil
}

func fileInfo(name string, f frame.Footer) manifest.FileInfo {
	return manifest.FileInfo{
		Name:   name,
		Size:   frame.HeaderLen + f.BodyLen + frame.FooterLen,
		CRC32C: f.BodyCRC,
		Count:  f.Count,
	}
}

// remove deletes the files of an empty partition.
func (p *Partition) remove() error {
	err := errors.Join(
		os.Remove(filepath.Join(p.dir, p.info.FST.Name)),
		os.Remove(filepath.Join(p.dir, p.info.Log.Name)))
	if p.info.HashIndex != nil {
		err = errors.Join(err, os.Remove(filepath.Join(p.dir, p.info.HashIndex.Name)))
	}
	if p.info.Top != nil {
		err = errors.Join(err, os.Remove(filepath.Join(p.dir, p.info.Top.Name)))
	}
	return err
}

// abort closes any open file without syncing; the directory is removed by
// the Builder.
func (p *Partition) abort() error {
	p.closed = true
	if p.err == nil {
		p.err = ErrDone
	}
	var errs []error
	for _, f := range []*os.File{p.fstF, p.logF, p.hixF} {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	if p.hixW != nil {
		errs = append(errs, p.hixW.Abort())
	}
	p.fstF, p.logF, p.hixF = nil, nil, nil
	return errors.Join(errs...)
}
