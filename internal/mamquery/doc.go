// Package mamquery reads Message Archive Management queries (XEP-0313,
// urn:xmpp:mam:2, with XEP-0059 paging) and answers them from a
// store.Archive: the form fields, the RSM cursor, one page and its <fin/>,
// and the result messages. It is shared by the mam feature (each account's
// archive) and the groups feature (each group's archive, queried on the
// room's address), which must not import each other.
//
// Stateless; safe for concurrent use. It imports only stanza, jid and
// store.
package mamquery
