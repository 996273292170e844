package pep

import (
	"strconv"

	"github.com/parley-im/parley/internal/stanza"
	"github.com/parley-im/parley/internal/store"
)

// applyOptions applies a <publish-options/> form to cfg and reports
// whether it changed. Fields other than the access model and max items
// are accepted and ignored; an unsupported value fails with
// precondition-not-met.
func applyOptions(cfg *store.PEPNode, opts *stanza.Element) (bool, *stanza.Error) {
	if opts == nil {
		return false, nil
	}
	x := opts.Child(nsData, "x")
	if x == nil {
		return false, nil
	}
	old := *cfg
	for _, fl := range x.Children {
		if fl.Name != "field" {
			continue
		}
		v := fl.ChildText(nsData, "value")
		switch fl.Attr("var") {
		case "pubsub#access_model":
			switch v {
			case AccessPresence, AccessOpen, AccessWhitelist:
				cfg.Access = v
			case "roster":
				cfg.Access = AccessPresence
			default:
				return false, preconditionNotMet()
			}
		case "pubsub#max_items":
			n, err := strconv.Atoi(v)
			switch {
			case v == "max":
				n = maxItemsLimit
			case err != nil || n < 1:
				return false, preconditionNotMet()
			}
			cfg.MaxItems = min(n, maxItemsLimit)
		}
	}
	return *cfg != old, nil
}

func preconditionNotMet() *stanza.Error {
	return pubsubError(stanza.Conflict, "precondition-not-met")
}
