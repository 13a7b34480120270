/* fs_config.c - TENANT/config: the tenant's configuration as JSON
 * (config.h). Reading shows the effective config with keys masked;
 * writing replaces it whole, validated at close: invalid content fails
 * the close (and fsync) with EINVAL, keeps the old config and says why in
 * status. Truncating it or removing it restores the defaults. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fs.h"
#include "reembed.h"

/* The config file's text (keys masked) and, when stored, its mtime. */
static int config_text(struct fs *fs, int64_t tenant, char **buf, size_t *len, int64_t *mtime)
{
	struct tenant_config c;
	int rc = config_load(fs->store, tenant, &c, mtime);

	if (!rc && !(*buf = config_render(&c, false)))
		rc = -ENOMEM;
	if (!rc)
		*len = strlen(*buf);
	config_clear(&c);
	return rc;
}

static int config_content(struct fs *fs, const struct node *n, char **buf, size_t *len)
{
	return config_text(fs, n->id, buf, len, NULL);
}

static int config_getattr(struct fs *fs, const struct node *n, struct stat *st)
{
	struct tenant_row t;
	int64_t mtime = 0;
	char *buf;
	size_t len;
	int rc;

	if ((rc = store_tenant_get(fs->store, n->id, &t)) ||
	    (rc = config_text(fs, n->id, &buf, &len, &mtime)))
		return rc;
	fs_stat_file(fs, n, n->id, st, mtime ? mtime : t.ctime, (off_t)len, 0666);
	free(buf);
	return 0;
}

static int config_save(struct fs *fs, const struct node *n, const char *buf, size_t len)
{
	struct tenant_config old, c;
	char err[512], *json = NULL;
	int rc;

	if ((rc = config_load(fs->store, n->id, &old, NULL)))
		return rc;
	rc = config_parse(buf, len, &old, &c, err, sizeof(err));
	config_clear(&old);
	if (rc == -EINVAL) {
		char line[600];
		snprintf(line, sizeof(line), "config: write rejected, the config is unchanged: %s",
			 err);
		store_event_add(fs->store, n->id, line);
		return rc;
	}
	if (rc)
		return rc;
	if (!(json = config_render(&c, true)))
		rc = -ENOMEM;
	else if (!(rc = store_config_set(fs->store, n->id, json))) {
		char line[800] = "config: saved; providers in order:";
		for (size_t i = 0; i < c.n_providers; i++)
			snprintf(line + strlen(line), sizeof(line) - strlen(line), " %s%s",
				 c.providers[i].name, i + 1 < c.n_providers ? "," : "");
		char mbuf[EMBED_MODEL_MAX];
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "; embedder %s",
			 config_embed_model(&c.embedder, mbuf, sizeof(mbuf)));
		store_event_add(fs->store, n->id, line);
		reembed_wake(fs->core->reembed); /* a new model re-embeds */
	}
	free(json);
	config_clear(&c);
	return rc;
}

static int config_setattr(struct fs *fs, const struct node *n, struct stat *st, int to_set)
{
	if (to_set & FUSE_SET_ATTR_SIZE)
		return st->st_size == 0 ? config_save(fs, n, "", 0) : -EINVAL;
	return 0; /* times are derived: accept touch */
}

const struct node_ops fs_config_ops = {
	.getattr = config_getattr,
	.content = config_content,
	.save = config_save,
	.setattr = config_setattr,
};

int fs_config_write(struct fs *fs, int64_t tenant, const char *buf, size_t len)
{
	struct node n;

	fs_node(&n, C_TENANT, tenant, TS_CONFIG);
	return config_save(fs, &n, buf, len);
}

/* rm TENANT/config (and rm -r TENANT): back to the defaults. */
int fs_config_reset(struct fs *fs, int64_t tenant)
{
	return fs_config_write(fs, tenant, "", 0);
}
