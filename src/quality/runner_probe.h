// RunnerProbe: the SchemaProbe of a pipeline's submitter. Every question is a
// statement run through the Runner as them (governed, limited and audited), so a
// pipeline compiles only over what they may read.
#pragma once

#include "quality/pipeline.h"
#include "session/runner.h"

namespace tarn::quality {

class RunnerProbe : public SchemaProbe {
 public:
  // `role`: an assumed role, as RunRequest::role.
  // `inputs`: the pipeline's file inputs, staged for every question.
  RunnerProbe(session::Runner& runner, identity::Principal principal, audit::Origin origin,
              std::string role = "", std::vector<session::FileInput> inputs = {})
      : runner_(runner),
        principal_(std::move(principal)),
        origin_(std::move(origin)),
        role_(std::move(role)),
        inputs_(std::move(inputs)) {}

  std::vector<Column> Describe(const std::string& query) override;
  std::vector<std::string> Values(const std::string& query, size_t limit) override;

 private:
  session::RunResult Run(const std::string& sql, std::optional<int64_t> max_rows,
                         session::ResultHandler& handler);

  session::Runner& runner_;
  identity::Principal principal_;
  audit::Origin origin_;
  std::string role_;
  std::vector<session::FileInput> inputs_;
};

}  // namespace tarn::quality
