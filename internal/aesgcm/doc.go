// Package aesgcm encrypts and decrypts files as XEP-0454 (OMEMO Media
// Sharing) prescribes, streaming, in flat memory: AES-256-GCM with a 12-byte
// IV, the 16-byte tag appended to the ciphertext, and the key and IV carried
// in the fragment of an aesgcm:// URL (hex of IV then key), so that OMEMO
// apps (Conversations, Gajim, Dino, Monal, ...) open Parley's files and
// Parley opens theirs.
//
// # Why not cipher.NewGCM alone
//
// The standard library's cipher.AEAD seals and opens whole buffers only, and
// chunking the file into several GCM messages would not be XEP-0454. A GCM
// message is CTR-mode encryption (counter blocks IV‖2, IV‖3, ...) plus the
// tag E_K(IV‖1) ⊕ GHASH_H(ciphertext, lengths). This package encrypts with
// cipher.NewCTR and computes GHASH without any hand-written field arithmetic
// on the data: GHASH is linear, and the tag that the standard library's GCM
// computes over additional data Z with no plaintext is
//
//	E_K(J0') ⊕ G(Z) ⊕ len(Z)·H,   G(Z) = Σ Z_i·H^(z-i+2)
//
// so G(Z) is the XOR of that tag and the tag over as many zero bytes (the
// other terms cancel). Chunks compose as acc·H^k ⊕ G(C), which equals
// G(C with acc XORed into its second block): one Seal per 64 KiB chunk,
// on the standard library's constant-time, hardware-accelerated GHASH.
// Only the final length block (and, for a last chunk of one block, the
// running value) need one multiplication by H per file, done by gfMul: the
// textbook algorithm of NIST SP 800-38D (Algorithm 1), with masks instead of
// branches so that it runs in constant time. The tests check every size
// class (empty, one block, chunk boundaries, random splits) byte for byte
// against cipher.NewGCM.
//
// Receivers of XEP-0454 accept the 16-byte IVs of older apps too: then the
// pre-counter block J0 is itself a GHASH (of the IV and its length), done
// the same way, and the counter wraps in its last 32 bits (GCM's inc32,
// which cipher.NewCTR does not do: ctr32 restarts the stream at the wrap).
//
// The helper Seals use a fixed nonce: their tags never leave the process
// (only their XOR, an intermediate GHASH value, is used), so no nonce is
// ever reused for anything visible.
//
// # Decryption and unverified plaintext
//
// OpenWriter decrypts as bytes arrive and checks the tag at Close: until
// then the plaintext it wrote is unauthenticated. Callers write it to a
// temporary file and keep it only when Close returned nil (the client's
// DownloadAttachmentFile does).
//
// Concurrency: a SealReader or OpenWriter is used by one goroutine at a
// time. Key and the URL functions are pure.
package aesgcm
