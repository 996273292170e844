package slicepool

import (
	"math/bits"
	"sync"
)

// MinCap and MaxCap are the smallest and largest capacities a Pool
// keeps: a list that grows past MaxCap grows in arrays of its own.
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

// Append appends v to s, with s moved to a larger array from the pool
// (its own given back) when it is full. s may have any capacity: one
// grown by plain append moves to the next class up.
func (p *Pool[T]) Append(s []T, v T) []T {
	if len(s) == cap(s) {
		s = p.grow(s)
	}
	return append(s, v)
}

// grow returns s in an array of the smallest class at least twice its
// capacity (past MaxCap, an array of that size made for it), s's own
// array given back.
func (p *Pool[T]) grow(s []T) []T {
	want := classAtLeast(2 * cap(s))
	if want > MaxCap {
		return append(make([]T, 0, want), s...)
	}
	bigger := p.get(want)[:len(s)]
	copy(bigger, s)
	p.Put(s)
	return bigger
}

// DropFront removes s's first n elements: the rest move to the start of
// s's array, or to a smaller array from the pool when they fill a quarter
// of it or less and fit in a class (s's given back), so that a list that
// stays a few elements long after a peak does not keep the peak's array.
// An emptied list gives its array back and is nil.
func (p *Pool[T]) DropFront(s []T, n int) []T {
	rest := len(s) - n
	switch {
	case rest == 0:
		p.Put(s)
		return nil
	case cap(s) > MinCap && rest <= cap(s)/4 && 2*rest <= MaxCap:
		smaller := p.get(classAtLeast(2 * rest))[:rest]
		copy(smaller, s[n:])
		p.Put(s)
		return smaller
	default:
		copy(s, s[n:])
		clear(s[rest:])
		return s[:rest]
	}
}

// Make returns an empty slice with room for at least n elements: an array
// of the smallest class that holds them, from the pool (past MaxCap, one
// made for it). A list that grew to n before can start there instead of
// growing through every smaller class again.
func (p *Pool[T]) Make(n int) []T {
	c := classAtLeast(n)
	if c > MaxCap {
		return make([]T, 0, c)
	}
	return p.get(c)
}

// get returns an empty slice of capacity c, a class's.
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
// longer use any slice of it. The pool keeps it when its capacity is a
// class's, and leaves it to the garbage collector otherwise. Its elements
// are cleared, so that the pool holds no pointer they had.
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

// classAtLeast is the smallest power of two at least n and MinCap.
func classAtLeast(n int) int {
	if n <= MinCap {
		return MinCap
	}
	return 1 << bits.Len(uint(n-1))
}

// class is the index of capacity c's class, a power of two in
// [MinCap, MaxCap].
func class(c int) int { return bits.TrailingZeros(uint(c)) - minShift }
