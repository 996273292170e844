// Package carbons implements Message Carbons (XEP-0280): a device that
// enabled carbons gets a copy of the account's one-to-one messages that
// went to its other devices: <received/> copies of incoming messages
// delivered elsewhere, and <sent/> copies of what the account's other
// devices sent, each wrapped in a XEP-0297 <forwarded/>.
//
// Which messages are copied (XEP-0280 section 6): type chat; type normal
// with a body; any message (not groupchat, headline or error) with a
// receipt, chat marker or chat state. Never copied: messages with the
// <private/> carbons element or the XEP-0334 <no-copy/> hint, and messages
// between the account's own devices. Error messages are not copied (the
// server does not track which message they answer).
//
// Devices linked by QR-code pairing (docs/protocol/devices.md) get carbons
// by default, as every device of a WhatsApp account sees the whole
// conversation; they may still send <disable/>.
//
// Received copies go to devices that enabled carbons, are available, and
// did not get the message itself; sent copies go to every other device
// that enabled carbons. The <private/> element is left in the message the
// recipient gets.
//
// State: the sets of sessions that enabled carbons and of linked devices
// that disabled them, guarded by a mutex, and
// forgotten when a session ends. Hooks run on the sender's goroutine and
// only queue copies (Session.Send never blocks). Safe for concurrent use.
package carbons
