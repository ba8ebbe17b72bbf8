#include "cli/cli.h"

int main(int argc, char** argv) {
  return kyso::cli::Run(argc, argv);
}
