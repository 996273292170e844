package stanza

import "fmt"

// ErrorType is the type attribute of a stanza error (RFC 6120 section 8.3.2).
type ErrorType string

// Stanza error types.
const (
	ErrAuth     ErrorType = "auth"
	ErrCancel   ErrorType = "cancel"
	ErrContinue ErrorType = "continue"
	ErrModify   ErrorType = "modify"
	ErrWait     ErrorType = "wait"
)

// Condition is a defined stanza or stream error condition (RFC 6120 sections
// 4.9.3 and 8.3.3); the same names are used by both error kinds.
type Condition string

// Stanza error conditions used by Parley.
const (
	BadRequest            Condition = "bad-request"
	Conflict              Condition = "conflict"
	FeatureNotImplemented Condition = "feature-not-implemented"
	Forbidden             Condition = "forbidden"
	ItemNotFound          Condition = "item-not-found"
	JIDMalformed          Condition = "jid-malformed"
	NotAcceptable         Condition = "not-acceptable"
	NotAllowed            Condition = "not-allowed"
	NotAuthorized         Condition = "not-authorized"
	PolicyViolation       Condition = "policy-violation"
	RecipientUnavailable  Condition = "recipient-unavailable"
	RemoteServerNotFound  Condition = "remote-server-not-found"
	ResourceConstraint    Condition = "resource-constraint"
	ServiceUnavailable    Condition = "service-unavailable"
	SubscriptionRequired  Condition = "subscription-required"
	UndefinedCondition    Condition = "undefined-condition"
	UnexpectedRequest     Condition = "unexpected-request"
	InternalServerError   Condition = "internal-server-error"
)

// Stream error conditions used by Parley (RFC 6120 section 4.9.3).
const (
	StreamBadFormat           Condition = "bad-format"
	StreamConflict            Condition = "conflict"
	StreamConnectionTimeout   Condition = "connection-timeout"
	StreamHostUnknown         Condition = "host-unknown"
	StreamInvalidNamespace    Condition = "invalid-namespace"
	StreamNotAuthorized       Condition = "not-authorized"
	StreamNotWellFormed       Condition = "not-well-formed"
	StreamPolicyViolation     Condition = "policy-violation"
	StreamResourceConstraint  Condition = "resource-constraint"
	StreamRestrictedXML       Condition = "restricted-xml"
	StreamSystemShutdown      Condition = "system-shutdown"
	StreamUnsupportedVersion  Condition = "unsupported-version"
	StreamInternalError       Condition = "internal-server-error"
	StreamUnsupportedEncoding Condition = "unsupported-encoding"
	StreamUnsupportedStanza   Condition = "unsupported-stanza-type"
	StreamInvalidXML          Condition = "invalid-xml"
	StreamReset               Condition = "reset"
)

// Error is a stanza error: it is returned to the sender inside an
// <error/> child of a stanza of type "error".
type Error struct {
	Type      ErrorType
	Condition Condition
	Text      string // optional human-readable text
	// App is an optional application-specific condition (RFC 6120
	// 8.3.4), such as XEP-0191's <blocked/>.
	App *Element
}

func (e *Error) Error() string {
	if e.Text != "" {
		return fmt.Sprintf("stanza error %s/%s: %s", e.Type, e.Condition, e.Text)
	}
	return fmt.Sprintf("stanza error %s/%s", e.Type, e.Condition)
}

// NewError returns a stanza error. The type is the one RFC 6120 recommends
// for the condition.
func NewError(cond Condition, text string) *Error {
	return &Error{Type: defaultType(cond), Condition: cond, Text: text}
}

func defaultType(cond Condition) ErrorType {
	switch cond {
	case BadRequest, JIDMalformed, NotAcceptable, PolicyViolation:
		return ErrModify
	case Forbidden, NotAuthorized, SubscriptionRequired:
		return ErrAuth
	case RecipientUnavailable, ResourceConstraint, UnexpectedRequest:
		return ErrWait
	default:
		return ErrCancel
	}
}

// Element renders the <error/> child.
func (e *Error) Element() *Element {
	el := NewElement(NSClient, "error", "type", string(e.Type))
	el.AddChild(NewElement(NSStanzaErr, string(e.Condition)))
	if e.Text != "" {
		t := NewElement(NSStanzaErr, "text")
		t.Text = e.Text
		el.AddChild(t)
	}
	if e.App != nil {
		el.AddChild(e.App)
	}
	return el
}

// StreamError is a stream-level error: the stream is closed after it is sent.
type StreamError struct {
	Condition Condition
	Text      string
	// App is an application-specific condition element (RFC 6120
	// section 4.9.4), or nil: Parley's reconnect hint during an upgrade.
	App *Element
}

func (e *StreamError) Error() string {
	if e.Text != "" {
		return fmt.Sprintf("stream error %s: %s", e.Condition, e.Text)
	}
	return "stream error " + string(e.Condition)
}

// NewStreamError returns a stream error with an optional text.
func NewStreamError(cond Condition, text string) *StreamError {
	return &StreamError{Condition: cond, Text: text}
}

// Element renders <stream:error/>.
func (e *StreamError) Element() *Element {
	el := NewElement(NSStream, "error")
	el.AddChild(NewElement(NSStreamErr, string(e.Condition)))
	if e.Text != "" {
		t := NewElement(NSStreamErr, "text")
		t.Text = e.Text
		el.AddChild(t)
	}
	if e.App != nil {
		el.AddChild(e.App)
	}
	return el
}

// ParseStreamError reads a received <stream:error/> element.
func ParseStreamError(el *Element) *StreamError {
	se := &StreamError{Condition: StreamInternalError}
	for _, c := range el.Children {
		switch {
		case c.Space != NSStreamErr:
			if se.App == nil {
				se.App = c
			}
		case c.Name == "text":
			se.Text = c.Text
		default:
			se.Condition = Condition(c.Name)
		}
	}
	return se
}

// ParseError reads the <error/> child of a stanza of type "error", or
// returns nil when there is none.
func ParseError(st *Element) *Error {
	el := st.Child("", "error")
	if el == nil {
		return nil
	}
	e := &Error{Type: ErrorType(el.Attr("type")), Condition: UndefinedCondition}
	for _, c := range el.Children {
		if c.Space != NSStanzaErr {
			continue
		}
		if c.Name == "text" {
			e.Text = c.Text
		} else {
			e.Condition = Condition(c.Name)
		}
	}
	return e
}
