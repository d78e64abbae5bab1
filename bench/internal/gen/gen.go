// Package gen writes the deterministic benchmark dataset: N unsorted
// key<TAB>value lines with a given share of duplicate keys.
//
// Every byte of line i is a pure function of (seed, i), so the output for a
// seed is reproducible byte for byte on any machine and Go version (we use
// our own splitmix64, never math/rand), and lines can be generated in
// parallel blocks and written in order.
//
// Duplicates: line i repeats an earlier key with probability Dup. It picks an
// earlier line j uniformly and takes j's key (following j's own pick if j was
// itself a duplicate, so the key really was emitted before); the value is
// new, so duplicate policies (first/last/...) give different answers. Fresh
// lines draw the key of index i, which embeds a bijection of i, so fresh keys
// are distinct (URL keys up to 2^32 lines, random keys with 128 random bits).
//
// Key shapes:
//
//	url:    scheme variant + zipf-distributed domain + 2–4 path words + id,
//	        e.g. "https://www.kelorami.com/news/garden/2718281828", ~50 bytes
//	random: 16 random bytes as 32 lowercase hex characters
//
// Values are 8–64 bytes (uniform) of printable ASCII without TAB or newline.
package gen

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
)

// Keys selects the key shape.
type Keys int

const (
	URL Keys = iota
	Random
)

// ParseKeys maps "url" or "random" to a Keys value.
func ParseKeys(s string) (Keys, error) {
	switch s {
	case "url":
		return URL, nil
	case "random":
		return Random, nil
	}
	return 0, fmt.Errorf("gen: unknown key shape %q (want url or random)", s)
}

func (k Keys) String() string {
	if k == Random {
		return "random"
	}
	return "url"
}

// Config describes one dataset.
type Config struct {
	N    int64   // number of lines
	Keys Keys    // key shape
	Dup  float64 // probability that a line repeats an earlier key
	Seed uint64
}

// Stream salts: independent hash streams derived from one seed.
const (
	saltDup   = 0x9e3779b97f4a7c15
	saltPick  = 0xbf58476d1ce4e5b9
	saltKey   = 0x94d049bb133111eb
	saltValue = 0xd6e8feb86659fd93
	saltDict  = 0xa0761d6478bd642f
)

// mix is the splitmix64 finalizer: a bijection on uint64 with good avalanche.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// rng is splitmix64: tiny, fast and with a fixed, documented sequence.
type rng struct{ s uint64 }

func newRNG(seed, salt, i uint64) rng { return rng{mix(seed^salt) ^ mix(i+salt)} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix(r.s)
}

// below returns a value in [0, n) (Lemire's multiply-shift; the tiny bias is
// irrelevant here and keeps it deterministic with one draw).
func (r *rng) below(n uint64) uint64 {
	hi, _ := mul64(r.next(), n)
	return hi
}

func mul64(a, b uint64) (hi, lo uint64) {
	const mask32 = 1<<32 - 1
	a0, a1 := a&mask32, a>>32
	b0, b1 := b&mask32, b>>32
	w0 := a0 * b0
	t := a1*b0 + w0>>32
	w1, w2 := t&mask32, t>>32
	w1 += a0 * b1
	return a1*b1 + w2 + w1>>32, a * b
}

// Generator produces lines; it is safe for concurrent use.
type Generator struct {
	cfg     Config
	dupCut  uint64 // line i is a duplicate when hash < dupCut
	domains [][]byte
	lnD     float64
}

const numDomains = 200_000

var (
	schemes = []string{"http://", "https://", "http://www.", "https://www."}
	// Weighted toward .com like the real web: index = below(len).
	tlds = []string{".com", ".com", ".com", ".com", ".com", ".org", ".org", ".net", ".net",
		".de", ".io", ".co.uk", ".fr", ".info", ".ru", ".jp", ".nl", ".edu"}
	syllables = []string{"ka", "lo", "ra", "mi", "ne", "to", "sa", "ve", "di", "po", "lu", "ge",
		"ba", "ri", "fo", "ta", "mo", "ni", "zu", "che", "an", "el", "or", "is", "un", "ex",
		"tech", "net", "soft", "web", "data", "shop", "news", "blog", "cloud", "hub", "go", "my"}
	words = []string{"news", "blog", "article", "products", "item", "user", "profile", "search",
		"category", "tag", "archive", "post", "page", "images", "video", "docs", "wiki", "help",
		"about", "contact", "store", "cart", "forum", "thread", "topic", "2019", "2020", "2021",
		"2022", "2023", "en", "de", "fr", "sports", "politics", "science", "garden", "travel",
		"music", "movies", "books", "recipes", "health", "finance", "world", "local", "events",
		"jobs", "download", "release", "files", "api", "v1", "v2", "static", "media", "photo",
		"gallery", "review", "compare", "deals", "sale", "new", "top", "best", "list", "index",
		"view", "detail", "show", "info", "faq", "support", "login", "account", "settings"}
)

// valueAlphabet has 64 printable symbols: 6 random bits per character.
const valueAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -"

// New prepares a generator (the domain table is derived from the seed).
func New(cfg Config) *Generator {
	g := &Generator{cfg: cfg, lnD: math.Log(numDomains + 1)}
	switch {
	case cfg.Dup <= 0:
		g.dupCut = 0
	case cfg.Dup >= 1:
		g.dupCut = math.MaxUint64
	default:
		g.dupCut = uint64(cfg.Dup * (1 << 63) * 2)
	}
	if cfg.Keys == URL {
		g.domains = make([][]byte, numDomains)
		for d := range g.domains {
			r := newRNG(cfg.Seed, saltDict, uint64(d))
			n := 2 + int(r.below(3))
			var b []byte
			for range n {
				b = append(b, syllables[r.below(uint64(len(syllables)))]...)
			}
			b = append(b, tlds[r.below(uint64(len(tlds)))]...)
			g.domains[d] = b
		}
	}
	return g
}

// KeyIndex returns the index of the fresh key that line i carries.
func (g *Generator) KeyIndex(i uint64) uint64 {
	for i > 0 && mix(g.cfg.Seed^saltDup^mix(i)) < g.dupCut {
		r := newRNG(g.cfg.Seed, saltPick, i)
		i = r.below(i)
	}
	return i
}

// AppendKey appends the fresh key number k.
func (g *Generator) AppendKey(b []byte, k uint64) []byte {
	r := newRNG(g.cfg.Seed, saltKey, k)
	if g.cfg.Keys == Random {
		const hex = "0123456789abcdef"
		// Hi word: a bijection of k, so fresh keys never collide.
		for _, w := range [2]uint64{mix(k ^ mix(g.cfg.Seed^saltKey)), r.next()} {
			for s := 60; s >= 0; s -= 4 {
				b = append(b, hex[(w>>uint(s))&15])
			}
		}
		return b
	}
	x := r.next()
	b = append(b, schemes[x&3]...)
	// Zipf-ish (density ~ 1/x): exp of a uniform over [0, ln(D+1)).
	u := float64(r.next()>>11) / (1 << 53)
	d := int(math.Exp(u*g.lnD)) - 1
	if d >= numDomains {
		d = numDomains - 1
	}
	b = append(b, g.domains[d]...)
	nw := 2 + int(r.below(3))
	for range nw {
		b = append(b, '/')
		b = append(b, words[r.below(uint64(len(words)))]...)
	}
	b = append(b, '/')
	// id: a bijection of the low 32 bits of k, so it is unique per key.
	id := perm32(uint32(k), uint32(g.cfg.Seed))
	return appendUint(b, uint64(id))
}

// perm32 is a bijection on uint32 (odd multiply and xorshift steps).
func perm32(x, seed uint32) uint32 {
	x ^= seed
	x *= 0x7feb352d
	x ^= x >> 15
	x *= 0x846ca68b
	x ^= x >> 16
	return x
}

func appendUint(b []byte, v uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// AppendValue appends line i's value.
func (g *Generator) AppendValue(b []byte, i uint64) []byte {
	r := newRNG(g.cfg.Seed, saltValue, i)
	n := 8 + int(r.below(57)) // 8..64
	for n > 0 {
		w := r.next()
		for c := 0; c < 10 && n > 0; c++ {
			b = append(b, valueAlphabet[w&63])
			w >>= 6
			n--
		}
	}
	return b
}

// AppendLine appends line i including its newline.
func (g *Generator) AppendLine(b []byte, i uint64) []byte {
	b = g.AppendKey(b, g.KeyIndex(i))
	b = append(b, '\t')
	b = g.AppendValue(b, i)
	return append(b, '\n')
}

// WriteTo writes all N lines to w, generating blocks on all cores.
func (g *Generator) WriteTo(w io.Writer) (int64, error) {
	const block = 1 << 15
	n := uint64(g.cfg.N)
	nb := (n + block - 1) / block
	workers := runtime.GOMAXPROCS(0)
	type job struct {
		idx uint64
		out chan []byte
	}
	jobs := make(chan job, workers*2)
	pending := make(chan chan []byte, workers*2)
	pool := sync.Pool{New: func() any { return make([]byte, 0, block*100) }}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				b := pool.Get().([]byte)[:0]
				lo, hi := j.idx*block, min((j.idx+1)*block, n)
				for i := lo; i < hi; i++ {
					b = g.AppendLine(b, i)
				}
				j.out <- b
			}
		}()
	}
	stop := make(chan struct{})
	go func() {
		defer close(pending)
		defer close(jobs)
		for bi := uint64(0); bi < nb; bi++ {
			out := make(chan []byte, 1)
			select {
			case pending <- out:
			case <-stop:
				return
			}
			jobs <- job{bi, out}
		}
	}()
	var total int64
	var err error
	for out := range pending {
		b := <-out
		if err == nil {
			var m int
			m, err = w.Write(b)
			total += int64(m)
			if err != nil {
				close(stop)
			}
		}
		pool.Put(b) //lint:ignore SA6002 the slice header copy is cheap next to the block
	}
	wg.Wait()
	return total, err
}

// Write is WriteTo through a 1 MiB buffer.
func (g *Generator) Write(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := g.WriteTo(bw); err != nil {
		return err
	}
	return bw.Flush()
}
