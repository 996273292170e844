// Package vcard implements vcard-temp (XEP-0054): a user sets and gets
// their own vCard, and gets anyone's; the server answers for the account.
//
// The vCard is kept as the single item of the account's PEP node
// "vcard-temp" with the whitelist access model (store.PEP), so it needs
// no storage of its own and other users cannot read it through PEP; they
// get it from this feature, which leaves the PHOTO out when the owner's
// photo privacy setting (store.Privacy) does not include them: "contacts"
// are the people the owner added (roster subscription to or both), as in
// the privacy feature.
//
// XEP-0153 compatibility: a vCard served to others without a PHOTO gets
// the owner's current XEP-0084 avatar (the data item named by the newest
// metadata), so clients that only know vCard avatars see the avatar
// published over PEP. (The photo hash in presence is the client's to send.)
//
// Stateless; safe for concurrent use.
package vcard
