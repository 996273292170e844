package auth

// SASL failure conditions (RFC 6120 section 6.5).
const (
	CondAborted              = "aborted"
	CondAccountDisabled      = "account-disabled"
	CondCredentialsExpired   = "credentials-expired"
	CondEncryptionRequired   = "encryption-required"
	CondIncorrectEncoding    = "incorrect-encoding"
	CondInvalidAuthzid       = "invalid-authzid"
	CondInvalidMechanism     = "invalid-mechanism"
	CondMalformedRequest     = "malformed-request"
	CondMechanismTooWeak     = "mechanism-too-weak"
	CondNotAuthorized        = "not-authorized"
	CondTemporaryAuthFailure = "temporary-auth-failure"
)

// Failure is a SASL failure: the caller sends
// <failure><Condition/><text>Text</text></failure>. Retrieve it with
// errors.As. Text is safe to show the client: it never holds a password,
// key, proof or binding data, and it is identical for a wrong password and
// an unknown user.
type Failure struct {
	Condition string // one of the Cond constants
	Text      string // optional human-readable text
	cause     error  // for the server's logs (temporary-auth-failure); never sent
}

func (f *Failure) Error() string {
	s := "auth: " + f.Condition
	if f.Text != "" {
		s += ": " + f.Text
	}
	if f.cause != nil {
		s += ": " + f.cause.Error()
	}
	return s
}

// Unwrap returns the underlying cause (a store error), if any.
func (f *Failure) Unwrap() error { return f.cause }

func fail(cond, text string) *Failure { return &Failure{Condition: cond, Text: text} }

// errNotAuthorized is what both a wrong password and an unknown user get.
func errNotAuthorized() *Failure { return fail(CondNotAuthorized, "") }
