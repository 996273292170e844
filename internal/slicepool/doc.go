// Package slicepool recycles the arrays of lists that grow and empty over
// and over: a busy device's unacknowledged stanzas, a group member's
// positions of the groups' log. Each grows by doubling from empty between
// two acknowledgements and is let go when they empty it; with plain
// append, a member of a busy group allocated some 2 KB a second per
// hundred stanzas just to grow those lists again (about 20% of the bytes
// a group delivery allocated).
//
// A Pool keeps arrays by capacity class (powers of two from MinCap to
// MaxCap), in sync.Pools: an array nobody takes back goes with the
// garbage collector, so that a quiet server holds none of them. Append
// grows a list into them; DropFront removes a list's acknowledged front
// and moves a list left short after a peak to a smaller array, so that
// nobody keeps a peak's array for a few elements.
package slicepool
