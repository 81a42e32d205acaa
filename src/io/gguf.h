// GGUF: the llama.cpp model file format. One include for the reader, the writer and the value types.
#pragma once
#include "io/gguf_reader.h"
#include "io/gguf_value.h"
#include "io/gguf_writer.h"
