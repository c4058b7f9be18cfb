package dev.rlkafka.cli;

public class Main { public static void main(String[] a) {} }
