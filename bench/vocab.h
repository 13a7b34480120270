/* bench/vocab.h - the synthetic help-desk vocabulary and the generator
 * (an LCG) the benchmarks share; bench/query.py reads the word list from
 * here too. */
#ifndef DESKFS_BENCH_VOCAB_H
#define DESKFS_BENCH_VOCAB_H

static const char *const words[] = {
	"login", "password", "reset", "vpn", "printer", "invoice", "refund", "account", "email",
	"outlook", "error", "timeout", "server", "update", "install", "license", "crash", "slow",
	"network", "wifi", "laptop", "screen", "keyboard", "access", "permission", "folder",
	"share", "sync", "backup", "restore", "database", "report", "export", "import", "billing",
	"payment", "card", "order", "shipping", "delivery", "customer", "portal", "mobile", "app",
	"android", "iphone", "browser", "chrome", "firefox", "certificate", "expired", "token",
	"two-factor", "authentication", "locked", "disabled", "enabled", "settings", "profile",
	"the", "a", "is", "not", "working", "since", "yesterday", "after", "when", "we", "try",
	"to", "please", "help", "urgent", "again", "still", "issue", "problem", "fixed", "works",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static unsigned long long state;

static unsigned rnd(unsigned n)
{
	state = state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((state >> 33) % n);
}

#endif
