// Package stanza is Parley's in-memory model of XMPP stanzas: a small element
// tree (Element) that both wire encodings (XML and Parley's binary form)
// decode into and encode from, typed helpers for the three stanza kinds, the
// namespaces Parley knows, and protocol errors (stanza errors and stream
// errors) as typed values.
//
// The model keeps an element's character data in one Text field next to its
// child elements; whitespace-only text between child elements is not kept.
// That is the XMPP subset every feature Parley implements needs (no mixed
// content). Attribute order is preserved.
//
// Elements are not safe for concurrent mutation. Once a stanza has been handed
// to the router it must be treated as immutable: code that needs to change a
// routed stanza (for example to stamp a stanza-id on a copy) calls Copy first,
// or CopyTop when it changes only the stanza's own attributes or its list of
// children (the children, immutable as well, are then shared).
//
// Many recipients' copies of one element that differ only in an added
// attribute and child (a group post's, each member's to and stanza-id)
// share a Shared, from which encoders encode the common part once. A post
// (NewPost) travels in place of such copies: each recipient's copy is made
// (For) or filled into reused memory for one write (CopyScratch) only
// where it is needed.
// This package imports nothing internal except jid.
package stanza
