// Package pep implements the Personal Eventing Protocol (XEP-0163): every
// account is a pubsub service (XEP-0060) at its bare JID, with nodes of any
// name. It carries avatars (XEP-0084), bookmarks (XEP-0402), OMEMO device
// lists and bundles, and anything else a client publishes.
//
// What is implemented, for an account's own nodes:
//   - publish, with auto-create and publish-options (pubsub#access_model
//     presence, open or whitelist; pubsub#max_items, "max" meaning 1000).
//     Options given with a publish are applied to the node (it is created
//     or reconfigured with them) instead of failing on a mismatch;
//   - retrieve items (all, the newest max_items, or by id), by the owner
//     and by others as the access model allows (presence: the owner's
//     presence subscribers; open: anyone; whitelist: the owner alone);
//   - retract (with notify), and node deletion (pubsub#owner);
//   - notifications (type headline, from the owner's bare JID) to the
//     owner's devices and to the devices of the owner's presence
//     subscribers whose entity capabilities (XEP-0115) include
//     "node+notify" ("filtered notifications"), routed like any stanza so
//     blocking and privacy apply;
//   - the last published item of each node a device is interested in, sent
//     when the device becomes available or its capabilities change.
//
// Entity capabilities: the ver of a device's <c/> presence element is
// resolved by asking that device for the disco#info of node#ver once; a
// result whose hash matches ver is cached for every device announcing the
// same ver, one that does not is used for that device only.
//
// State: per-session interests and the verified capabilities cache, each
// guarded by a mutex; sessions are forgotten when they end. Items are in
// the store (store.PEP). Safe for concurrent use.
package pep
