// Package disco answers service discovery (XEP-0030) for the server and for
// user accounts: disco#info lists exactly the features other modules
// declared with Host.AddDiscoFeature, plus the identities and XEP-0128
// forms declared through module.DiscoExtender; an account's disco#info
// lists disco#info and the identities and features declared through
// module.AccountDisco;
// disco#items of the server lists the services features declare
// (module.DiscoItems: the groups' MUC service); accounts list none.
//
// It holds no state of its own and is safe for concurrent use.
package disco
