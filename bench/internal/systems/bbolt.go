package systems

import (
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// bboltDB is go.etcd.io/bbolt, the pure-Go B+tree most Go users reach for.
// Built the way its docs recommend for bulk loads: keys in order, FillPercent
// 1.0 (pages packed full, as for append-only loads), NoSync during the load,
// 100k puts per transaction, one fsync at the end.
type bboltDB struct{}

func init() { register(bboltDB{}) }

func (bboltDB) Name() string           { return "bbolt" }
func (bboltDB) Path(dir string) string { return filepath.Join(dir, "bbolt.db") }

var bucketName = []byte("kv")

func (s bboltDB) Build(dir, sorted, raw string) error {
	p := s.Path(dir)
	if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
		return err
	}
	db, err := bolt.Open(p, 0o644, &bolt.Options{NoSync: true, NoFreelistSync: true})
	if err != nil {
		return err
	}
	defer db.Close()
	var tx *bolt.Tx
	var bk *bolt.Bucket
	n := 0
	// bbolt keeps the key and value slices until the transaction commits,
	// and ReadTSV reuses its buffer: copy them into an arena that is
	// recycled after each commit.
	var arena []byte
	err = ReadTSV(sorted, func(k, v []byte) error {
		if cap(arena)-len(arena) < len(k)+len(v) {
			arena = make([]byte, 0, max(64<<20, len(k)+len(v)))
		}
		start := len(arena)
		arena = append(arena, k...)
		arena = append(arena, v...)
		k, v = arena[start:start+len(k):start+len(k)], arena[start+len(k):]
		if tx == nil {
			var err error
			if tx, err = db.Begin(true); err != nil {
				return err
			}
			if bk, err = tx.CreateBucketIfNotExists(bucketName); err != nil {
				return err
			}
			bk.FillPercent = 1.0
		}
		if err := bk.Put(k, v); err != nil {
			return err
		}
		if n++; n%batchSize == 0 {
			err := tx.Commit()
			tx = nil
			arena = arena[:0]
			return err
		}
		return nil
	})
	if err != nil {
		if tx != nil {
			tx.Rollback()
		}
		return err
	}
	if tx != nil {
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	if err := db.Sync(); err != nil {
		return err
	}
	return db.Close()
}

func (s bboltDB) Files(dir, raw string) ([]string, error) {
	_, err := os.Stat(s.Path(dir))
	return []string{s.Path(dir)}, err
}

func (s bboltDB) Open(dir, raw string) (Store, error) {
	db, err := bolt.Open(s.Path(dir), 0o444, &bolt.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return bboltStore{db}, nil
}

type bboltStore struct{ db *bolt.DB }

func (s bboltStore) Close() error { return s.db.Close() }

func (s bboltStore) NewGetter() (Getter, error) {
	tx, err := s.db.Begin(false)
	if err != nil {
		return nil, err
	}
	return bboltGetter{tx, tx.Bucket(bucketName)}, nil
}

type bboltGetter struct {
	tx *bolt.Tx
	b  *bolt.Bucket
}

func (g bboltGetter) Get(key []byte) ([]byte, bool, error) {
	v := g.b.Get(key)
	return v, v != nil, nil
}

func (g bboltGetter) Close() error { return g.tx.Rollback() }

func (s bboltStore) Scan(fn func(k, v []byte)) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketName).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			fn(k, v)
			n++
		}
		return nil
	})
	return n, err
}
