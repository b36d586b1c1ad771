package oauth2

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/internal/httpapi"
)

// feedEvent is one entry of the revocation feed.
type feedEvent struct {
	Seq int64  `json:"seq"`
	SID string `json:"sid"`
	Exp int64  `json:"exp"` // unix seconds: no access token of the session is valid after it
}

// feedPage is the answer of GET /oauth2/revocations.
type feedPage struct {
	Events []feedEvent `json:"events"`
	Next   int64       `json:"next"`
}

// revocations serves GET /oauth2/revocations?since=N[&limit=M], Gatehouse's
// feed of revoked sessions for a confidential client (HTTP Basic only: a
// GET carries no form). The answer's next is the since of the next call.
func (h *Handler) revocations(w http.ResponseWriter, r *http.Request) {
	httpapi.NoStore(w)
	q := r.URL.Query()
	since, err := intParam(q, "since")
	if err != nil {
		h.fail(w, err)
		return
	}
	limit, err := intParam(q, "limit")
	if err != nil {
		h.fail(w, err)
		return
	}
	c, err := h.client(r.Context(), r, url.Values{})
	if err != nil {
		h.fail(w, err)
		return
	}
	events, next, err := h.svc.RevocationFeed(r.Context(), c, since, int(limit))
	if err != nil {
		h.fail(w, err)
		return
	}
	page := feedPage{Events: make([]feedEvent, 0, len(events)), Next: next}
	for _, e := range events {
		page.Events = append(page.Events, feedEvent{Seq: e.Seq, SID: e.SessionID, Exp: e.Exp.Unix()})
	}
	httpapi.WriteJSON(w, http.StatusOK, page)
}

// intParam reads an optional non-negative integer query parameter (0 when absent).
func intParam(q url.Values, name string) (int64, error) {
	vs := q[name]
	switch len(vs) {
	case 0:
		return 0, nil
	case 1:
	default:
		return 0, badRequest("parameter " + name + " is repeated")
	}
	n, err := strconv.ParseInt(vs[0], 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest(name + " must be a non-negative integer")
	}
	return n, nil
}
