build/common/jsonw.o: common/jsonw.c common/jsonw.h
common/jsonw.h:
