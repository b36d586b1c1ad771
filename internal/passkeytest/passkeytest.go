// Package passkeytest is a software WebAuthn authenticator for tests: an
// ECDSA P-256 key per credential, "none" attestation, user presence and
// verification always given, and a signature counter the test can move
// (also backwards, as a cloned authenticator would). It answers the
// options Gatehouse sends with the PublicKeyCredential JSON a browser's
// toJSON() produces (WebAuthn Level 3).
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// Authenticator holds one discoverable credential once Create has run.
type Authenticator struct {
	// Origin is what clientDataJSON names as the caller's origin.
	Origin string
	// RPID, when set, is hashed into the authenticator data instead of the
	// relying party id of the options (to test a wrong relying party).
	RPID string
	// Counter is the signature counter; Get increments it before signing.
	Counter uint32
	// BackupEligible and BackupState are the BE and BS flags (a synced passkey).
	BackupEligible, BackupState bool
	// NoUserVerification leaves the UV flag out.
	NoUserVerification bool
	// NoCounter keeps the counter at zero, as synced passkeys do.
	NoCounter bool
	// KeepCredential makes Create register the credential it made before
	// again (an authenticator that ignores excludeCredentials).
	KeepCredential bool

	// CredentialID, UserHandle and Key are set by Create.
	CredentialID []byte
	UserHandle   []byte
	Key          *ecdsa.PrivateKey
	rpID         string
}

// New returns an authenticator that signs for origin.
func New(origin string) *Authenticator { return &Authenticator{Origin: origin} }

var b64 = base64.RawURLEncoding

type creationOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
}

type requestOptions struct {
	Challenge string `json:"challenge"`
	RPID      string `json:"rpId"`
}

// Create answers PublicKeyCredentialCreationOptions (the JSON of a
// publicKey member) with a new credential.
func (a *Authenticator) Create(publicKey json.RawMessage) (json.RawMessage, error) {
	var o creationOptions
	if err := json.Unmarshal(publicKey, &o); err != nil {
		return nil, fmt.Errorf("creation options: %w", err)
	}
	if o.Challenge == "" || o.RP.ID == "" || o.User.ID == "" {
		return nil, errors.New("creation options without challenge, rp.id or user.id")
	}
	user, err := b64.DecodeString(o.User.ID)
	if err != nil {
		return nil, fmt.Errorf("user.id: %w", err)
	}
	key, id := a.Key, a.CredentialID
	if key == nil || !a.KeepCredential {
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, err
		}
		id = make([]byte, 32)
		_, _ = rand.Read(id)
	}
	a.Key, a.CredentialID, a.UserHandle, a.rpID = key, id, user, o.RP.ID

	clientData := a.clientData("webauthn.create", o.Challenge)
	auth := a.authData(o.RP.ID, flagAT)
	auth = append(auth, make([]byte, 16)...) // AAGUID: zero, as "none" attestation allows
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(id)))
	auth = append(auth, id...)
	auth = append(auth, coseKey(&key.PublicKey)...)
	att := cborMap(
		cborText("fmt"), cborText("none"),
		cborText("attStmt"), cborMap(),
		cborText("authData"), cborBytes(auth),
	)
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(id), "rawId": b64.EncodeToString(id), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal", "hybrid"},
		},
		"clientExtensionResults": map[string]any{},
	})
}

// Get answers PublicKeyCredentialRequestOptions with an assertion of the
// credential made by Create, the counter incremented first.
func (a *Authenticator) Get(publicKey json.RawMessage) (json.RawMessage, error) {
	if a.Key == nil {
		return nil, errors.New("no credential: call Create first")
	}
	var o requestOptions
	if err := json.Unmarshal(publicKey, &o); err != nil {
		return nil, fmt.Errorf("request options: %w", err)
	}
	rpID := o.RPID
	if rpID == "" {
		rpID = a.rpID
	}
	if !a.NoCounter {
		a.Counter++
	}
	return a.Sign(o.Challenge, rpID)
}

// Sign makes an assertion for challenge (base64url, as in the options) and
// rpID with the current counter, without incrementing it.
func (a *Authenticator) Sign(challenge, rpID string) (json.RawMessage, error) {
	clientData := a.clientData("webauthn.get", challenge)
	auth := a.authData(rpID, 0)
	sum := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, auth...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.Key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.CredentialID), "rawId": b64.EncodeToString(a.CredentialID), "type": "public-key",
		"authenticatorAttachment": "platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData),
			"authenticatorData": b64.EncodeToString(auth),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(a.UserHandle),
		},
		"clientExtensionResults": map[string]any{},
	})
}

func (a *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
	return b
}

// authData is the authenticator data up to and including the counter.
func (a *Authenticator) authData(rpID string, extra byte) []byte {
	if a.RPID != "" {
		rpID = a.RPID
	}
	h := sha256.Sum256([]byte(rpID))
	flags := flagUP | extra
	if !a.NoUserVerification {
		flags |= flagUV
	}
	if a.BackupEligible {
		flags |= flagBE
	}
	if a.BackupState {
		flags |= flagBS
	}
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, a.Counter)
}

// coseKey is the COSE_Key (RFC 9053) of an ES256 public key.
func coseKey(pub *ecdsa.PublicKey) []byte {
	raw, _ := pub.Bytes() // 0x04 || X || Y
	x, y := raw[1:33], raw[33:65]
	return cborMap(
		cborInt(1), cborInt(2), // kty: EC2
		cborInt(3), cborInt(-7), // alg: ES256
		cborInt(-1), cborInt(1), // crv: P-256
		cborInt(-2), cborBytes(x),
		cborInt(-3), cborBytes(y),
	)
}

// A minimal CBOR (RFC 8949) encoder: just what attestation objects need.

func cborHead(major byte, n uint64) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n < 1<<8:
		return []byte{major<<5 | 24, byte(n)}
	case n < 1<<16:
		return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
	default:
		return binary.BigEndian.AppendUint32([]byte{major<<5 | 26}, uint32(n))
	}
}

func cborInt(v int) []byte {
	if v < 0 {
		return cborHead(1, uint64(-1-v))
	}
	return cborHead(0, uint64(v))
}

func cborBytes(b []byte) []byte { return append(cborHead(2, uint64(len(b))), b...) }
func cborText(s string) []byte  { return append(cborHead(3, uint64(len(s))), s...) }

// cborMap encodes alternating keys and values, already encoded.
func cborMap(kv ...[]byte) []byte {
	out := cborHead(5, uint64(len(kv)/2))
	for _, x := range kv {
		out = append(out, x...)
	}
	return out
}
