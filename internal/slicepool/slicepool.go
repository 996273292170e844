package slicepool

import (
	"math/bits"
	"sync"
)

// MinCap and MaxCap are the smallest and largest capacities a Pool
// keeps: a list that grows past MaxCap grows with plain append.
const (
	MinCap = 16
	MaxCap = 4096
)

const (
	minShift   = 4 // log2(MinCap)
	numClasses = 9 // MinCap << 0 ... MinCap << 8 == MaxCap
)

// Pool recycles arrays of T; its zero value is ready for use, and it is
// safe for concurrent use. A Pool must not be copied after first use.
type Pool[T any] struct {
	classes [numClasses]sync.Pool // each holds *[]T of one capacity
	holders sync.Pool             // empty *[]T, for the next Put
}

// Append appends v to s, with s's array moved to a larger one from the
// pool (and given back) when it is full.
func (p *Pool[T]) Append(s []T, v T) []T {
	if len(s) == cap(s) {
		s = p.grow(s)
	}
	return append(s, v)
}

// grow returns s in an array of twice its capacity (MinCap for an empty
// one), s's own array given back.
func (p *Pool[T]) grow(s []T) []T {
	want := max(MinCap, 2*cap(s))
	if want > MaxCap {
		return append(s[:len(s):len(s)], make([]T, 0, want-len(s))...)
	}
	bigger := p.get(want)[:len(s)]
	copy(bigger, s)
	p.Put(s)
	return bigger
}

// get returns an empty slice of capacity c, a power of two in
// [MinCap, MaxCap].
func (p *Pool[T]) get(c int) []T {
	if h, ok := p.classes[class(c)].Get().(*[]T); ok {
		s := (*h)[:0]
		*h = nil
		p.holders.Put(h)
		return s
	}
	return make([]T, 0, c)
}

// Put gives back the array of s from s's start on: the caller must no
// longer use any slice of it. It keeps it when its capacity is a class's
// (a slice made by append, or cut from further into an array, usually is
// not: it is left to the garbage collector). Its elements are cleared,
// so that the pool holds no pointer they had.
func (p *Pool[T]) Put(s []T) {
	c := cap(s)
	if c < MinCap || c > MaxCap || c&(c-1) != 0 {
		return
	}
	s = s[:c]
	clear(s)
	h, ok := p.holders.Get().(*[]T)
	if !ok {
		h = new([]T)
	}
	*h = s[:0]
	p.classes[class(c)].Put(h)
}

// class is the index of capacity c's class.
func class(c int) int { return bits.TrailingZeros(uint(c)) - minShift }
