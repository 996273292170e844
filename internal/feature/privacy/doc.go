// Package privacy implements WhatsApp-style privacy settings, per account
// and enforced by the server, set over XMPP in Parley's private namespace
// urn:parley:privacy:0 (docs/protocol/privacy.md):
//
//   - last seen (everyone, contacts, nobody): a last-activity query
//     (XEP-0012) to the user's bare JID from someone outside the audience
//     is refused with forbidden;
//   - online status (everyone, or the same audience as last seen): the
//     user's available presence does not reach anyone outside it (their
//     unavailable presence still does, so no one is left seeing the user
//     online);
//   - read receipts (on, off): with off, the user's "displayed" and
//     "acknowledged" chat markers (XEP-0333) are dropped on their way out,
//     and no one's reach the user;
//   - profile photo (everyone, contacts, nobody): requests for the user's
//     avatar PEP nodes (XEP-0084) from outside the audience are refused
//     with forbidden and avatar notifications to them are dropped; the
//     vCard feature leaves the PHOTO out of the vCard it serves them.
//
// "Contacts" are the people the user added: the JIDs in the user's roster
// with a subscription of to or both (WhatsApp's "my contacts", the people
// in one's address book). Presence and last activity also go only to those
// the user let subscribe (from or both), so for them "contacts" means a
// mutual subscription. A user's own devices always see everything. Everything is enforced in one module.RouteFilter,
// so the features that produce the stanzas (roster, last activity, PEP)
// know nothing of privacy.
//
// When a set changes who sees the user online, the user's presence is sent
// again to the contacts concerned: unavailable to those who no longer see
// it, the current presence to those who now do.
//
// State: a bounded cache of settings read from the store, guarded by a
// mutex; sets write the store first. Safe for concurrent use.
package privacy
