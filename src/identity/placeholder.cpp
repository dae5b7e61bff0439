// placeholder until jwt.cpp lands
