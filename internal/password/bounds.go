package password

// Bounds on every kind of stored hash. A hash is data an administrator (or
// an import file) hands in, so its cost parameters are an attacker's knobs:
// without bounds one imported hash could make every wrong-password sign-in
// for that account allocate gigabytes or spin for minutes. Each kind is
// capped near the most expensive setting its own ecosystem uses by default,
// so that real exports import unchanged while no single verification costs
// more than about one argon2id verification at the top of its bounds
// (64 MiB, 10 passes). Hashes outside these bounds are refused when they
// are stored (Check) and never computed when they are read (Verify).
const (
	// argon2id and argon2i: m ≤ 64 MiB, t ≤ 10, p ≤ 4.
	maxMemoryKiB   = 64 * 1024
	maxIterations  = 10
	maxParallelism = 4
	minSaltLen     = 8
	maxSaltLen     = 64
	minKeyLen      = 16
	maxKeyLen      = 128

	// bcrypt: cost 4 to 14 (each step doubles the work; 14 is about a
	// second on a server core).
	minBcryptCost = 4
	maxBcryptCost = 14

	// scrypt: N = 2^ln with 1 ≤ ln ≤ 20, memory 128·r·N ≤ 64 MiB, and
	// work p·r·N ≤ 2^21 (p times that memory ≤ 256 MiB mixed). passlib's
	// default (ln=16, r=8, p=1) and every RFC 7914 test vector but the
	// 1 GiB one fit.
	maxScryptLogN   = 20
	maxScryptMemory = 64 << 20
	maxScryptWork   = 1 << 21
	maxScryptSalt   = 64

	// PBKDF2 (SHA-256 and SHA-512): 1 to 2,000,000 rounds; Django's and
	// OWASP's current recommendations (600,000 to 1,000,000) fit.
	maxPBKDF2Rounds = 2_000_000
	maxPBKDF2Salt   = 1024

	// Firebase scrypt: rounds (r) 1 to 8 and mem_cost (log2 N) 1 to 14,
	// the ranges Firebase itself accepts (16 MiB at most).
	maxFirebaseRounds  = 8
	maxFirebaseMemCost = 14
	maxFirebaseKey     = 256

	// Checksums of scrypt and PBKDF2 hashes: 16 to 128 bytes.
	minChecksum = 16
	maxChecksum = 128
)
