// Moved: the YAML pipeline API now lives in <dagflow/pipeline/pipeline.hpp> (target
// dagflow::pipeline). This header forwards there so that code written against the old path keeps
// compiling.
#pragma once

#include <dagflow/pipeline/pipeline.hpp>
