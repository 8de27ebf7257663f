// Debian's libyaml (libyaml-dev), imported into Swift as-is.
#include <yaml.h>
